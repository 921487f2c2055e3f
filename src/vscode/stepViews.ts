/** Trajectory steps as the panel draws them; plain data, no `vscode` import, so it is tested on plain Node. */
import { noActionLabel } from '../core/agent/runStep.js';
import type { Step } from '../core/types.js';
import type { StepView } from '../protocol/messages.js';

/**
 * One step for the panel: a `str_replace` as its removed and added lines, a shell command with how it
 * exited, any other action as its arguments; paths relative to the repository (`workspace` is the folder
 * the rollout worked in, which the model sees as the repository's top).
 */
export function toStepView(step: Step, workspace?: string): StepView {
  const base = { index: step.index + 1, thought: step.thought, observation: step.observation };
  const action = step.action;
  if (!action) return { ...base, kind: 'malformed', action: `(${noActionLabel(step)})` };
  const args = action.args;
  if (action.tool === 'execute_bash') {
    const command = String(args.cmd ?? args.command ?? '');
    return { ...base, kind: 'shell', action: `$ ${firstLine(command)}`, command, exit: exitOf(step.observation) };
  }
  if (action.tool === 'file_editor') {
    const path = relative(String(args.path ?? ''), workspace);
    const command = String(args.command ?? '');
    const line = `file_editor ${command} ${path}`.trim();
    if (command === 'str_replace') {
      return { ...base, kind: 'edit', action: line, path, diff: { removed: lines(args.old_str), added: lines(args.new_str) } };
    }
    if (command === 'insert' || command === 'create') return { ...base, kind: 'edit', action: line, path, diff: { removed: [], added: lines(args.new_str ?? args.file_text) } };
    return { ...base, kind: 'other', action: line, args: JSON.stringify({ ...args, path }, null, 2) };
  }
  return { ...base, kind: 'other', action: `${action.tool} ${firstLine(String(args.search_term ?? args.command ?? ''))}`.trim(), args: JSON.stringify(args, null, 2) };
}

// "/tmp/.../r2/pager/core.py" and "/repo/pager/core.py" are both "pager/core.py" to the person reading.
function relative(path: string, workspace?: string): string {
  if (workspace && (path === workspace || path.startsWith(`${workspace}/`))) return path.slice(workspace.length + 1) || '.';
  return path.replace(/^\/(repo|testbed|workspace)\//, '').replace(/^\.\//, '');
}

function exitOf(observation: string): string | undefined {
  if (/^The command timed out/.test(observation)) return 'timed out';
  return /^Exit code: (.+)$/m.exec(observation)?.[1];
}

function lines(value: unknown): string[] {
  return typeof value === 'string' && value !== '' ? value.replace(/\n$/, '').split('\n') : [];
}

function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return text.includes('\n') ? `${line} ...` : line;
}
