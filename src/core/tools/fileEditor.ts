import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { skeleton } from '../code/skeleton.js';
import { AgentError, ErrorReason } from '../errors.js';
import { readRegularFile } from '../node/readRegularFile.js';
import { clip, type Tool, type ToolContext, type ToolResult } from './tool.js';

/** Files longer than this many lines are shown as a skeleton unless a range is asked for. */
const SKELETON_MIN_LINES = 400;
/** Files larger than this are never read whole. */
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.tox', 'dist', 'build', '.mypy_cache']);

/** The R2E-Gym file editor: view, create, str_replace, insert and undo_edit. */
export const fileEditor: Tool = {
  spec: {
    name: 'file_editor',
    description: [
      'Custom editing tool for viewing, creating and editing files.',
      '* `view` on a file shows it with line numbers (a large source file is shown as a skeleton of its',
      '  definitions unless `view_range` is given); on a directory lists files two levels deep.',
      '* `create` writes a new file; it cannot overwrite an existing one.',
      '* `str_replace` replaces `old_str` by `new_str`; `old_str` must match exactly one place, whitespace included.',
      '* `insert` inserts `new_str` after line `insert_line` (0 inserts at the top).',
      '* `undo_edit` reverts the last edit of `path`.',
    ].join('\n'),
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command to run.', enum: ['view', 'create', 'str_replace', 'insert', 'undo_edit'] },
        path: { type: 'string', description: 'Path of the file or directory, relative to the repository root or absolute inside it.' },
        file_text: { type: 'string', description: 'Content of the file to create (`create`).' },
        old_str: { type: 'string', description: 'Exact text to replace (`str_replace`).' },
        new_str: { type: 'string', description: 'Replacement text (`str_replace`) or text to insert (`insert`).' },
        insert_line: { type: 'integer', description: 'Line after which to insert (`insert`).' },
        view_range: { type: 'array', items: { type: 'integer' }, description: '[start, end] lines to view, 1-based, end -1 for the end of file (`view`).' },
        concise: { type: 'boolean', description: 'Show the skeleton of a source file even when it is short (`view`).' },
      },
      required: ['command', 'path'],
    },
  },
  async run(args, context) {
    const target = await context.workspace.resolve(String(args.path));
    switch (args.command) {
      case 'view': return { observation: await view(target, args, context) };
      case 'create': return create(target, args, context);
      case 'str_replace': return strReplace(target, args, context);
      case 'insert': return insert(target, args, context);
      case 'undo_edit': return undoEdit(target, context);
      default:
        throw new AgentError(ErrorReason.InvalidArgument,
          `Unknown command ${JSON.stringify(args.command)}. Use one of view, create, str_replace, insert, undo_edit.`);
    }
  },
};

async function view(target: string, args: Record<string, unknown>, context: ToolContext): Promise<string> {
  const info = await statOrThrow(target, context);
  const shown = context.workspace.relative(target);
  if (info.isDirectory()) {
    const lines = await listTwoLevels(target, '', 2);
    return clip(`Files and directories up to 2 levels deep in ${shown}, excluding hidden items:\n${shown}\n${lines.join('\n')}`);
  }
  const text = await readText(target, info.size, shown);
  const lines = text.split('\n');
  const range = args.view_range as number[] | undefined;
  if (range !== undefined) return numbered(lines, parseRange(range, lines.length), shown);
  if (lines.length > SKELETON_MIN_LINES || args.concise === true) {
    const outline = await skeleton(target, text);
    if (outline) {
      return clip(`Skeleton of ${shown} (${lines.length} lines; bodies elided). Use view_range to see a part in full.\n${outline}`);
    }
  }
  return numbered(lines, [1, lines.length], shown);
}

async function create(target: string, args: Record<string, unknown>, context: ToolContext): Promise<ToolResult> {
  const text = requireString(args, 'file_text');
  const shown = context.workspace.relative(target);
  if (await exists(target)) {
    throw new AgentError(ErrorReason.InvalidArgument, `File already exists at ${shown}. Use str_replace or insert to change it.`);
  }
  await mkdir(path.dirname(target), { recursive: true });
  await writeText(target, text);
  remember(context, target, null);
  return { observation: `File created successfully at ${shown}.` };
}

async function strReplace(target: string, args: Record<string, unknown>, context: ToolContext): Promise<ToolResult> {
  const oldStr = requireString(args, 'old_str');
  const newStr = typeof args.new_str === 'string' ? args.new_str : '';
  const shown = context.workspace.relative(target);
  const text = await readText(target, (await statOrThrow(target, context)).size, shown);
  if (oldStr === '') throw new AgentError(ErrorReason.InvalidArgument, 'old_str is empty; give the exact text to replace.');
  const first = text.indexOf(oldStr);
  if (first < 0) {
    throw new AgentError(ErrorReason.InvalidArgument,
      `No replacement was performed: old_str did not appear verbatim in ${shown}. View the file and copy the text exactly, whitespace included.`);
  }
  const second = text.indexOf(oldStr, first + 1);
  if (second >= 0) {
    const lineNumbers = occurrenceLines(text, oldStr);
    throw new AgentError(ErrorReason.InvalidArgument,
      `No replacement was performed: old_str appears ${lineNumbers.length} times in ${shown} (lines ${lineNumbers.join(', ')}). Include more context to make it unique.`);
  }
  const updated = text.slice(0, first) + newStr + text.slice(first + oldStr.length);
  await writeText(target, updated);
  remember(context, target, text);
  const startLine = text.slice(0, first).split('\n').length;
  return { observation: `The file ${shown} has been edited. ${snippet(updated, startLine, newStr.split('\n').length, shown)}` };
}

async function insert(target: string, args: Record<string, unknown>, context: ToolContext): Promise<ToolResult> {
  const newStr = requireString(args, 'new_str');
  const line = Number(args.insert_line);
  const shown = context.workspace.relative(target);
  const text = await readText(target, (await statOrThrow(target, context)).size, shown);
  const lines = text.split('\n');
  if (!Number.isInteger(line) || line < 0 || line > lines.length) {
    throw new AgentError(ErrorReason.InvalidArgument, `insert_line must be an integer between 0 and ${lines.length}.`);
  }
  lines.splice(line, 0, ...newStr.split('\n'));
  const updated = lines.join('\n');
  await writeText(target, updated);
  remember(context, target, text);
  return { observation: `The file ${shown} has been edited. ${snippet(updated, line + 1, newStr.split('\n').length, shown)}` };
}

async function undoEdit(target: string, context: ToolContext): Promise<ToolResult> {
  const shown = context.workspace.relative(target);
  const stack = context.editHistory.get(target);
  if (!stack || stack.length === 0) throw new AgentError(ErrorReason.InvalidArgument, `No edit to undo for ${shown}.`);
  const previous = stack.pop()!;
  if (previous === null) {
    await rm(target, { force: true });
    return { observation: `Undid the creation of ${shown}; the file is removed.` };
  }
  await writeText(target, previous);
  return { observation: `Last edit to ${shown} undone.` };
}

/**
 * Writes a file the agent names, never through a symbolic link at its last component: one the agent's own
 * command put there since the path was resolved would otherwise point the write anywhere this process can write.
 */
async function writeText(target: string, text: string): Promise<void> {
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o666).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ELOOP') throw error;
    throw new AgentError(ErrorReason.PathOutsideWorkspace, `${path.basename(target)} is a symbolic link now; the file editor does not write through links.`);
  });
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

function remember(context: ToolContext, target: string, previous: string | null): void {
  const stack = context.editHistory.get(target) ?? [];
  stack.push(previous);
  context.editHistory.set(target, stack);
}

function numbered(lines: string[], [start, end]: [number, number], shown: string): string {
  const body = lines.slice(start - 1, end).map((line, i) => `${String(start + i).padStart(6)}\t${line}`).join('\n');
  return clip(`Here's the result of running \`cat -n\` on ${shown}:\n${body}`);
}

function snippet(text: string, startLine: number, count: number, shown: string): string {
  const lines = text.split('\n');
  const from = Math.max(1, startLine - 4);
  const to = Math.min(lines.length, startLine + count + 3);
  return `${numbered(lines, [from, to], `a snippet of ${shown}`)}\nReview the changes and make sure they are as expected.`;
}

function parseRange(range: unknown, total: number): [number, number] {
  if (!Array.isArray(range) || range.length !== 2 || !range.every((n) => Number.isInteger(n))) {
    throw new AgentError(ErrorReason.InvalidArgument, 'view_range must be two integers, [start, end].');
  }
  const [start, rawEnd] = range as [number, number];
  const end = rawEnd === -1 ? total : rawEnd;
  if (start < 1 || start > total || end < start || end > total) {
    throw new AgentError(ErrorReason.InvalidArgument, `view_range [${start}, ${rawEnd}] is invalid: the file has ${total} lines.`);
  }
  return [start, end];
}

function occurrenceLines(text: string, needle: string): number[] {
  const lines: number[] = [];
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    lines.push(text.slice(0, at).split('\n').length);
  }
  return lines;
}

function requireString(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string') throw new AgentError(ErrorReason.InvalidArgument, `Parameter ${name} is required and must be a string.`);
  return value;
}

async function statOrThrow(target: string, context: ToolContext) {
  try {
    return await lstat(target);
  } catch {
    throw new AgentError(ErrorReason.FileNotFound, `The path ${context.workspace.relative(target)} does not exist.`);
  }
}

async function exists(target: string): Promise<boolean> {
  return lstat(target).then(() => true, () => false);
}

async function readText(target: string, size: number, shown: string): Promise<string> {
  if (size > MAX_FILE_BYTES) {
    throw new AgentError(ErrorReason.InvalidArgument,
      `${shown} is ${(size / 1024 / 1024).toFixed(1)} MB, too large to open. Use execute_bash with head, sed -n or grep to read parts of it.`);
  }
  const buffer = await readRegularFile(target, { maxBytes: MAX_FILE_BYTES, followLinks: true }).catch((error: unknown) => {
    throw error instanceof AgentError ? new AgentError(ErrorReason.InvalidArgument, `${shown} ${error.message} and cannot be viewed or edited as text.`) : error;
  });
  if (buffer.subarray(0, 8000).includes(0)) {
    throw new AgentError(ErrorReason.InvalidArgument, `${shown} is a binary file (${size} bytes) and cannot be viewed or edited as text.`);
  }
  return buffer.toString('utf8');
}

async function listTwoLevels(dir: string, prefix: string, depth: number): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => !e.name.startsWith('.') && !SKIPPED_DIRS.has(e.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(entry.isDirectory() ? `${rel}/` : rel);
    if (entry.isDirectory() && depth > 1) out.push(...await listTwoLevels(path.join(dir, entry.name), rel, depth - 1));
  }
  return out;
}
