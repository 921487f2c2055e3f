// One trajectory step in the review panel: the thought, the action drawn for its kind, the observation folded.
import type { StepView } from '../src/protocol/messages';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** An `li` for one step: an edit as a small diff, a command as a terminal block with its exit code, else the arguments. */
export function stepView(s: StepView): HTMLLIElement {
  const item = el('li', `step ${s.kind ?? 'other'}`);
  item.dataset.step = String(s.index);
  item.append(el('div', 'thought', s.thought || '(no reasoning)'));
  if (s.kind === 'shell') {
    const block = el('div', 'terminal');
    block.append(el('pre', 'command', `$ ${s.command ?? ''}`));
    if (s.exit !== undefined) block.append(el('span', `exit-badge ${s.exit === '0' ? 'ok' : 'failed'}`, s.exit === 'timed out' ? 'timed out' : `exit ${s.exit}`));
    item.append(block);
  } else if (s.kind === 'edit' && s.diff) {
    item.append(el('div', 'action-line', s.action));
    const diff = el('pre', 'diff');
    for (const line of s.diff.removed) diff.append(el('span', 'removed', `- ${line}\n`));
    for (const line of s.diff.added) diff.append(el('span', 'added', `+ ${line}\n`));
    item.append(diff);
  } else {
    item.append(el('pre', 'action', s.args ? `${s.action}\n${s.args}` : s.action));
  }
  const observation = el('details', 'observation');
  observation.append(el('summary', '', 'Observation'), el('pre', 'observation', s.observation));
  item.append(observation);
  return item;
}
