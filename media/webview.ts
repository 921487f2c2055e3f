// The review panel: renders ReviewState sent by the extension and posts the user's choices back.
import type { CandidateRequest, CandidateView, FromWebview, OutcomeView, ReviewState, StepView, ToWebview } from '../src/protocol/messages';
import { stepView } from './steps';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}
interface PanelState {
  review?: ReviewState;
  open: Record<string, boolean>;
  details?: Record<string, boolean>;
  trajectories: Record<string, StepView[]>;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let panel: PanelState = vscode.getState() ?? { open: {}, trajectories: {} };
const root = document.getElementById('root')!;
const live = document.getElementById('status')!;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function button(label: string, title: string, onClick: () => void, action: string, secondary = false): HTMLButtonElement {
  const b = el('button', { textContent: label, title, className: secondary ? 'secondary' : '' });
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
  if (review.status === 'running' || review.status === 'verifying' || review.candidates.length === 0) root.append(rollouts(review));
  const shown = review.candidates.filter((c) => !c.folded);
  const folded = review.candidates.filter((c) => c.folded);
  const list = el('ol', { className: 'candidates' });
  list.setAttribute('aria-label', 'Ranked candidates');
  for (const candidate of shown) list.append(card(candidate, review));
  root.append(list);
  if (folded.length > 0) {
    const more = el('ol', { className: 'candidates folded' });
    for (const candidate of folded) more.append(card(candidate, review));
    const box = el('details', { className: 'not-recommended', open: folded.length === review.candidates.length && shown.length === 0 },
      el('summary', { textContent: `Not recommended (${folded.length})` }), more);
    root.append(box);
  }
  root.append(el('p', { className: 'keys', textContent: 'Keys: j / k next or previous candidate · Enter opens its diff · Tab moves between buttons' }));
  announce(review);
}

// The only live region: one short line when the run's state changes, not the whole panel on every update.
function announce(review: ReviewState): void {
  const line = review.outcome ? `${outcomeLabel(review.outcome)}: ${review.outcome.summary}` : `Run ${review.status}: ${review.rollouts.filter((r) => r.status === 'done').length} of ${review.rollouts.length} rollouts done`;
  if (live.textContent !== line) live.textContent = line;
}

function outcomeLabel(o: OutcomeView): string {
  return { ready: 'Ready', failed: 'Failed', cancelled: 'Cancelled', no_fit_candidate: 'No candidate worth applying' }[o.kind];
}

// What the batch amounts to, above the list: the same line the CLI ends with, then any close call and notes.
function outcome(o: OutcomeView): HTMLElement {
  const box = el('section', { className: `outcome ${o.kind}` }, el('p', { className: 'outcome-line', textContent: `${outcomeLabel(o)}: ${o.summary}` }));
  if (o.nearTie) box.append(el('p', { className: 'near-tie', textContent: `Close call: ${o.nearTie}.` }));
  for (const note of o.notes ?? []) box.append(el('p', { className: 'note', textContent: note }));
  return box;
}

function header(review: ReviewState): HTMLElement {
  const facts: string[] = [`status: ${review.status}`];
  // A panel state saved by an earlier build may hold the bare figures instead of the words: left out
  if (typeof review.diversity === 'string') facts.push(review.diversity);
  if (review.totals) {
    const judge = review.totals.judgeTokens ? ` (judge ${review.totals.judgeTokens})` : '';
    facts.push(`${review.totals.tokens} tokens${judge}${review.priced ? `, $${review.totals.costUsd.toFixed(4)}` : ''}, ${(review.totals.wallMs / 1000).toFixed(1)} s`);
  }
  if (review.mode) facts.push(`selector: ${review.mode}`);
  const h = el('header', {}, el('h1', { textContent: review.issueTitle, title: review.issueTitle }), el('p', { className: 'facts', textContent: facts.join(' · ') }));
  if (review.message) h.append(el('p', { className: 'message', textContent: review.message }));
  return h;
}

// The rollouts while they run; a rollout's steps stream in below the table while it is open.
function rollouts(review: ReviewState): HTMLElement {
  const box = el('section', { className: 'live' });
  const table = el('table', { className: 'rollouts' });
  table.append(el('tr', {}, ...['rollout', 'status', 'steps', 'last action', ''].map((t) => el('th', { textContent: t }))));
  for (const r of review.rollouts) {
    const row = el('tr', {}, ...[r.id, r.exitReason ?? r.status, String(r.steps), r.lastAction ?? ''].map((t) => el('td', { textContent: t })));
    const open = panel.open[r.id] === true;
    row.append(el('td', {}, button(open ? 'Hide steps' : 'Steps', `Follow ${r.id}'s steps as they happen`, () => toggleLive(r.id), 'live-steps', true)));
    row.dataset.rollout = r.id;
    table.append(row);
  }
  box.append(table);
  for (const r of review.rollouts) {
    if (!panel.open[r.id]) continue;
    box.append(el('h3', { textContent: `${r.id}, live` }), trajectory(r.id));
  }
  return box;
}

function toggleLive(id: string): void {
  panel.open[id] = !panel.open[id];
  save();
  render();
}

function card(c: CandidateView, review: ReviewState): HTMLElement {
  const item = el('li', { className: ['candidate', c.decision ?? '', c.recommended ? 'recommended' : ''].filter(Boolean).join(' '), tabIndex: 0 });
  item.dataset.candidate = c.id;
  item.setAttribute('role', 'article');
  item.setAttribute('aria-label', `Rank ${c.rank}, ${c.id}${c.recommended ? ', recommended' : ''}${c.unfit ? `, not worth applying: ${c.unfit}` : ''}, ${c.summary ?? c.explanation}${c.decision ? `, ${c.decision}` : ''}`);
  item.append(el('h2', { textContent: `#${c.rank} ${c.id}${c.decision ? ` (${c.decision})` : ''}` }));
  const summary = el('p', { className: 'summary' });
  if (c.recommended) summary.append(el('span', { className: 'badge recommended', textContent: 'Recommended' }), ' ');
  summary.append(c.summary ?? c.explanation);
  item.append(summary);
  if (c.unfit) item.append(el('p', { className: 'unfit', textContent: `Not worth applying: ${c.unfit}` }));
  item.append(details(c, review), actions(c, review));
  if (panel.open[c.id]) item.append(trajectory(c.id));
  return item;
}

// Everything else about a candidate, behind one expander: the selector's line, the run's figures, each signal.
function details(c: CandidateView, review: ReviewState): HTMLElement {
  const stats = [c.exitReason, `${c.steps} steps`, `${c.tokens} tokens`, ...(review.priced ? [`$${c.costUsd.toFixed(4)}`] : []),
    `+${c.added}/-${c.removed}`, c.changedFiles.join(', ') || 'no files'].join(' · ');
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
  const box = el('details', { className: 'details', open: panel.details?.[c.id] === true },
    el('summary', { textContent: 'Details' }), el('p', { className: 'explanation', textContent: c.explanation }), el('p', { className: 'stats', textContent: stats }), signals);
  box.addEventListener('toggle', () => { panel.details = { ...panel.details, [c.id]: box.open }; save(); });
  return box;
}

function actions(c: CandidateView, review: ReviewState): HTMLElement {
  const row = el('div', { className: 'actions' });
  const applied = review.candidates.find((o) => o.decision === 'applied');
  row.append(button('Diff', `Open the diff of ${c.id} in the editor`, () => post({ type: 'openDiff', candidateId: c.id }), 'diff', true),
    button(panel.open[c.id] ? 'Hide steps' : 'Steps', `Show ${c.id}'s trajectory step by step`, () => toggleSteps(c.id), 'steps', true));
  if (c.decision === 'applied') {
    const done = button('Apply', `${c.id} is applied`, () => undefined, 'apply');
    done.disabled = true;
    row.append(done, button('Undo Apply', `Take ${c.id} out of your working tree again`, () => post({ type: 'undo', candidateId: c.id }), 'undo'));
  } else {
    row.append(...applyButtons(c, applied?.id));
  }
  // A rollout the model server or a crash cut short is nothing of the model's to reject (decisions.ts).
  if (!c.untrainable) {
    row.append(button('Reject', c.decision === 'applied' ? `Reject ${c.id} and take its change out` : `Record that ${c.id} is not acceptable`,
      () => post({ type: 'reject', candidateId: c.id }), 'reject', true));
  }
  const others = review.candidates.filter((o) => o.id !== c.id && !o.folded);
  if (others.length > 0) row.append(button('Compare', `Compare ${c.id} with another candidate`, () => post({ type: 'compare', a: c.id, b: others[0].id }), 'compare', true));
  return row;
}

// An unfit candidate's Apply is disabled; applying it anyway takes a second, deliberate button (and a confirmation).
function applyButtons(c: CandidateView, applied: string | undefined): HTMLElement[] {
  const label = applied ? `Replace ${applied} with ${c.id}` : 'Apply';
  const apply = button(label, applied ? `Take ${applied} out of your working tree and apply ${c.id}` : `Apply ${c.id} to your working tree`,
    () => post({ type: 'apply', candidateId: c.id }), 'apply', !c.recommended);
  if (!c.unfit) return [apply];
  apply.disabled = true;
  apply.title = `Not worth applying: ${c.unfit}`;
  if (c.added + c.removed === 0) return [apply];
  return [apply, button('Apply anyway...', `Apply ${c.id} although it is not worth applying (${c.unfit})`, () => post({ type: 'apply', candidateId: c.id }), 'apply-anyway', true)];
}

function trajectory(id: string): HTMLElement {
  const steps = panel.trajectories[id];
  if (!steps) return el('p', { className: 'muted', textContent: 'Loading the trajectory...' });
  const list = el('ol', { className: 'steps' });
  for (const s of steps) list.append(stepView(s));
  return list;
}

function toggleSteps(id: string): void {
  panel.open[id] = !panel.open[id];
  if (panel.open[id] && !panel.trajectories[id]) post({ type: 'showTrajectory', candidateId: id });
  save();
  render();
}

// About the run shown now, which the message names.
function post(request: CandidateRequest): void {
  if (panel.review) vscode.postMessage({ ...request, runId: panel.review.runId });
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (message.type === 'state') {
    if (panel.review?.runId !== message.state.runId) panel = { open: {}, trajectories: {} };
    // The live steps were shortened for speed; once ranked, Steps loads each trajectory whole.
    const ranked = message.state.status !== 'running' && message.state.status !== 'verifying';
    if (ranked && (panel.review?.status === 'running' || panel.review?.status === 'verifying')) panel = { ...panel, open: {}, trajectories: {} };
    panel.review = message.state;
  } else if (message.type === 'trajectory') {
    panel.trajectories[message.candidateId] = message.steps;
  } else if (message.type === 'step') {
    panel.trajectories[message.candidateId] = [...(panel.trajectories[message.candidateId] ?? []), message.step];
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
vscode.postMessage({ type: 'ready' });
