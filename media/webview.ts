// The review panel: renders ReviewState sent by the extension and posts the user's choices back.
import type { CandidateView, FromWebview, OutcomeView, ReviewState, StepView, ToWebview } from '../src/protocol/messages';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}
interface PanelState {
  review?: ReviewState;
  open: Record<string, boolean>;
  trajectories: Record<string, StepView[]>;
  compareWith?: string;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let panel: PanelState = vscode.getState() ?? { open: {}, trajectories: {} };
const root = document.getElementById('root')!;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function button(label: string, title: string, onClick: () => void, action: string): HTMLButtonElement {
  const b = el('button', { textContent: label, title });
  b.dataset.action = action;
  b.addEventListener('click', onClick);
  return b;
}

function save(): void {
  vscode.setState(panel);
}

function render(): void {
  const review = panel.review;
  root.replaceChildren();
  if (!review) {
    root.append(el('p', { className: 'muted', textContent: 'No run yet. Run "EntroPO: Fix Issue..." to start.' }));
    return;
  }
  root.append(header(review));
  if (review.outcome) root.append(outcome(review.outcome));
  if (review.status === 'running' || review.candidates.length === 0) root.append(rollouts(review));
  const list = el('ol', { className: 'candidates' });
  list.setAttribute('aria-label', 'Ranked candidates');
  for (const candidate of review.candidates) list.append(card(candidate, review));
  root.append(list);
}

// What the batch amounts to, above the list: the same line the CLI ends with.
function outcome(o: OutcomeView): HTMLElement {
  const label = o.kind === 'ready' ? 'Ready' : o.kind === 'failed' ? 'Failed' : 'No candidate worth applying';
  const p = el('p', { className: `outcome ${o.kind}`, textContent: `${label}: ${o.summary}` });
  p.setAttribute('role', 'status');
  return p;
}

function header(review: ReviewState): HTMLElement {
  const facts: string[] = [`status: ${review.status}`];
  if (review.diversity) facts.push(`${review.diversity.distinct} distinct patches, similarity ${review.diversity.similarity.toFixed(2)}`);
  if (review.totals) facts.push(`${review.totals.tokens} tokens, $${review.totals.costUsd.toFixed(4)}, ${(review.totals.wallMs / 1000).toFixed(1)} s`);
  if (review.mode) facts.push(`selector: ${review.mode}`);
  const h = el('header', {}, el('h1', { textContent: review.issueTitle }), el('p', { className: 'facts', textContent: facts.join(' · ') }));
  if (review.message) h.append(el('p', { className: 'message', textContent: review.message }));
  return h;
}

function rollouts(review: ReviewState): HTMLElement {
  const table = el('table', { className: 'rollouts' });
  table.append(el('tr', {}, ...['rollout', 'status', 'steps', 'last action'].map((t) => el('th', { textContent: t }))));
  for (const r of review.rollouts) {
    const row = el('tr', {}, ...[r.id, r.exitReason ?? r.status, String(r.steps), r.lastAction ?? ''].map((t) => el('td', { textContent: t })));
    row.dataset.rollout = r.id;
    table.append(row);
  }
  return table;
}

function card(c: CandidateView, review: ReviewState): HTMLElement {
  const item = el('li', { className: `candidate${c.decision ? ` ${c.decision}` : ''}`, tabIndex: 0 });
  item.dataset.candidate = c.id;
  const title = `#${c.rank} ${c.id}${c.decision ? ` (${c.decision})` : ''}`;
  const stats = `${c.exitReason} · ${c.steps} steps · ${c.tokens} tokens · $${c.costUsd.toFixed(4)} · +${c.added}/-${c.removed} · ${c.changedFiles.join(', ') || 'no files'}`;
  item.append(el('h2', { textContent: title }), el('p', { className: 'stats', textContent: stats }), el('p', { className: 'explanation', textContent: c.explanation }));
  const signals = el('ul', { className: 'signals' });
  signals.setAttribute('aria-label', `Signals of ${c.id}`);
  for (const s of c.signals) {
    const tone = s.tone ?? 'neutral';
    const mark = tone === 'good' ? '✓ ' : tone === 'bad' ? '✗ ' : '';
    const chip = el('li', { className: `signal ${s.status} ${tone}`, title: s.detail, textContent: `${mark}${s.name}: ${s.status === 'ok' ? s.detail : `unavailable (${s.detail})`}` });
    chip.dataset.signal = s.name;
    chip.dataset.tone = tone;
    signals.append(chip);
  }
  item.append(signals);
  const actions = el('div', { className: 'actions' });
  actions.append(
    button('Diff', `Open the diff of ${c.id} in the editor`, () => post({ type: 'openDiff', candidateId: c.id }), 'diff'),
    button(panel.open[c.id] ? 'Hide steps' : 'Steps', `Show ${c.id}'s trajectory step by step`, () => toggleSteps(c.id), 'steps'),
    ...applyButtons(c),
    button('Reject', `Record that ${c.id} is not acceptable`, () => post({ type: 'reject', candidateId: c.id }), 'reject'),
  );
  const others = review.candidates.filter((o) => o.id !== c.id);
  if (others.length > 0) actions.append(button('Compare', `Compare ${c.id} with another candidate`, () => compare(c.id, others.map((o) => o.id)), 'compare'));
  item.append(actions);
  if (panel.open[c.id]) item.append(trajectory(c.id));
  return item;
}

// An unfit candidate's Apply is disabled; applying it anyway takes a second, deliberate button (and a confirmation).
function applyButtons(c: CandidateView): HTMLElement[] {
  const apply = button('Apply', `Apply ${c.id} to your working tree`, () => post({ type: 'apply', candidateId: c.id }), 'apply');
  if (!c.unfit) return [apply];
  apply.disabled = true;
  apply.title = `Not worth applying: ${c.unfit}`;
  return [apply, button('Apply anyway...', `Apply ${c.id} although it is not worth applying (${c.unfit})`, () => post({ type: 'apply', candidateId: c.id }), 'apply-anyway')];
}

function trajectory(id: string): HTMLElement {
  const steps = panel.trajectories[id];
  if (!steps) return el('p', { className: 'muted', textContent: 'Loading the trajectory...' });
  const list = el('ol', { className: 'steps' });
  for (const s of steps) {
    list.append(el('li', {},
      el('div', { className: 'thought', textContent: s.thought || '(no reasoning)' }),
      el('pre', { className: 'action', textContent: s.action }),
      el('details', {}, el('summary', { textContent: 'Observation' }), el('pre', { className: 'observation', textContent: s.observation }))));
  }
  return list;
}

function toggleSteps(id: string): void {
  panel.open[id] = !panel.open[id];
  if (panel.open[id] && !panel.trajectories[id]) post({ type: 'showTrajectory', candidateId: id });
  save();
  render();
}

function compare(id: string, others: string[]): void {
  // The best other candidate is the natural comparison; the extension offers a pick when there are several.
  post({ type: 'compare', a: id, b: others[0] });
}

function post(message: FromWebview): void {
  vscode.postMessage(message);
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (message.type === 'state') {
    if (panel.review?.runId !== message.state.runId) panel = { open: {}, trajectories: {} };
    panel.review = message.state;
  } else if (message.type === 'trajectory') {
    panel.trajectories[message.candidateId] = message.steps;
  }
  save();
  render();
});

// Keyboard: j/k move between candidates, Enter opens the diff of the focused one.
window.addEventListener('keydown', (event) => {
  const cards = [...document.querySelectorAll<HTMLElement>('li.candidate')];
  const at = cards.indexOf(document.activeElement as HTMLElement);
  if (event.key === 'j' || event.key === 'k') {
    const next = cards[Math.max(0, Math.min(cards.length - 1, at + (event.key === 'j' ? 1 : -1)))];
    next?.focus();
  } else if (event.key === 'Enter' && at >= 0 && document.activeElement === cards[at]) {
    post({ type: 'openDiff', candidateId: cards[at].dataset.candidate! });
  }
});

render();
post({ type: 'ready' });
