/**
 * Finds the reproduction scripts of a batch: those rollouts wrote, by replaying their file_editor calls on those
 * files, and those a candidate's patch adds (patches made elsewhere keep them).
 */
import { createHash } from 'node:crypto';
import { parseAction } from '../../agent/parseAction.js';
import { defaultTools } from '../../tools/defaultTools.js';
import type { Message, ModelResponse } from '../../types.js';
import { parsePatch } from '../../worktree/parse.js';
import { isScratch } from '../../worktree/patch.js';
import type { VerifiableCandidate } from '../verifiable.js';

/** One reproduction script, with the rollouts that wrote exactly this file. */
export interface ReproTest {
  /** `<path>` or, when rollouts wrote different files at one path, `<path>#<content hash>`. */
  id: string;
  /** Path relative to the repository root, forward slashes. */
  path: string;
  content: string;
  /** Ids of the candidates whose trajectories wrote it, or whose patches add it. */
  authors: string[];
  /** The program that runs it (`python3`, `node`, `bash`). */
  interpreter: string;
  /** Where it was found: a rollout's file_editor calls, a candidate's patch, or the issue's own code. */
  origin: 'trajectory' | 'patch' | 'issue';
}

/** Names agents give to scripts that reproduce an issue (`reproduce_bug.py`, `replicate_issue.py`, `bug_reproduction.py`). */
export const REPRO_PATTERNS: readonly string[] = ['reproduce*', 'repro*.*', 'test_repro*', '*_repro.*', 'replicate*', '*_reproduction*'];

const INTERPRETERS: Record<string, string> = { py: 'python3', js: 'node', mjs: 'node', cjs: 'node', sh: 'bash', bash: 'bash' };
const NO_USAGE = { promptTokens: 0, completionTokens: 0, costUsd: 0 };

/**
 * The reproduction scripts of all candidates, one per distinct (path, content). Each trajectory's
 * file_editor calls on files named like `patterns` are replayed (create, str_replace, insert, undo_edit),
 * so the last version a rollout wrote wins; files written another way (a shell heredoc) are not seen. A
 * patch's added files named like `patterns` count too: the same script from a trajectory and a patch is one.
 */
export function collectReproTests(
  candidates: readonly (Pick<VerifiableCandidate, 'id' | 'messages'> & { patch?: string })[],
  patterns: readonly string[] = REPRO_PATTERNS,
): ReproTest[] {
  const byKey = new Map<string, ReproTest>();
  const add = (candidateId: string, path: string, content: string, origin: ReproTest['origin']): void => {
    const interpreter = INTERPRETERS[path.split('.').at(-1)?.toLowerCase() ?? ''];
    if (interpreter === undefined) return;
    const key = `${path}\0${content}`;
    const existing = byKey.get(key);
    if (existing) {
      if (!existing.authors.includes(candidateId)) existing.authors.push(candidateId);
    } else byKey.set(key, { id: path, path, content, authors: [candidateId], interpreter, origin });
  };
  for (const candidate of candidates) {
    for (const [path, content] of replayEdits(candidate.messages ?? [], patterns)) add(candidate.id, path, content, 'trajectory');
  }
  for (const candidate of candidates) {
    for (const [path, content] of addedFiles(candidate.patch ?? '', patterns)) add(candidate.id, path, content, 'patch');
  }
  const tests = [...byKey.values()];
  for (const test of tests) {
    if (tests.some((other) => other !== test && other.path === test.path)) {
      test.id = `${test.path}#${createHash('sha256').update(test.content).digest('hex').slice(0, 8)}`;
    }
  }
  return tests;
}

/** The content of every text file `patch` adds whose file name (not folder) is like `patterns`. */
function addedFiles(patch: string, patterns: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of parsePatch(patch)) {
    if (file.status !== 'added' || file.binary || file.newPath === null || !isScratch(file.newPath.split('/').at(-1) ?? '', patterns)) continue;
    const lines: string[] = [];
    let newline = true;
    for (const line of file.body) {
      if (line.startsWith('+')) lines.push(line.slice(1));
      else if (line.startsWith('\\')) newline = false;
    }
    files.set(file.newPath, lines.join('\n') + (newline && lines.length > 0 ? '\n' : ''));
  }
  return files;
}

/** The final content of every reproduction file one trajectory wrote through file_editor. */
function replayEdits(messages: readonly Message[], patterns: readonly string[]): Map<string, string> {
  const history = new Map<string, string[]>();
  for (const args of fileEditorCalls(messages)) {
    const path = repoPath(String(args.path ?? ''));
    if (path === '' || !isScratch(path, patterns)) continue;
    const versions = history.get(path) ?? [];
    const current = versions.at(-1);
    const next = applyEdit(current, args);
    if (args.command === 'undo_edit') versions.pop();
    else if (next !== undefined) versions.push(next);
    if (versions.length > 0) history.set(path, versions);
    else history.delete(path);
  }
  return new Map([...history].map(([path, versions]) => [path, versions.at(-1) as string]));
}

/** The content after one edit, or undefined when the edit changes nothing or would have failed. */
function applyEdit(current: string | undefined, args: Record<string, unknown>): string | undefined {
  if (args.command === 'create' && typeof args.file_text === 'string') return args.file_text;
  if (current === undefined) return undefined;
  if (args.command === 'str_replace' && typeof args.old_str === 'string') {
    const at = current.indexOf(args.old_str);
    // The tool refuses an old_str that is missing or ambiguous; so does the replay.
    if (at < 0 || current.indexOf(args.old_str, at + 1) >= 0) return undefined;
    return current.slice(0, at) + String(args.new_str ?? '') + current.slice(at + args.old_str.length);
  }
  if (args.command === 'insert' && typeof args.insert_line === 'number' && typeof args.new_str === 'string') {
    const lines = current.split('\n');
    if (args.insert_line < 0 || args.insert_line > lines.length) return undefined;
    lines.splice(args.insert_line, 0, ...args.new_str.split('\n'));
    return lines.join('\n');
  }
  return undefined;
}

/** Arguments of every valid file_editor call, native tool calls and text-format calls alike, in order. */
function fileEditorCalls(messages: readonly Message[]): Record<string, unknown>[] {
  const calls: Record<string, unknown>[] = [];
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    const responses: ModelResponse[] = message.toolCalls && message.toolCalls.length > 0
      ? message.toolCalls.map((call) => ({ content: message.content, toolCalls: [call], usage: NO_USAGE }))
      : [{ content: message.content, toolCalls: [], usage: NO_USAGE }];
    for (const response of responses) {
      const parsed = parseAction(response, response.toolCalls.length > 0 ? 'tools' : 'text', defaultTools);
      if (parsed.ok && parsed.tool.spec.name === 'file_editor') calls.push(parsed.args);
    }
  }
  return calls;
}

/**
 * The path relative to the repository root. `/testbed/...` is the root as models trained on R2E-Gym name
 * it; any other absolute path is the rollout's own worktree, gone by now, so only its file name is kept
 * (reproduction scripts are written at the top level).
 */
function repoPath(given: string): string {
  const path = given.trim().replace(/\\/g, '/');
  if (/^\/testbed(\/|$)/.test(path)) return path.replace(/^\/testbed\/?/, '');
  if (path.startsWith('/')) return path.split('/').at(-1) ?? '';
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return parts.includes('..') ? '' : parts.join('/');
}
