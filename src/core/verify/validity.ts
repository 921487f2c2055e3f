import * as posix from 'node:path/posix';
import { parsePatch } from '../worktree/parse.js';
import { changedFiles, DEFAULT_SCRATCH_PATTERNS, isScratch } from '../worktree/patch.js';
import type { SignalValue } from './signalTypes.js';
import type { VerifiableCandidate } from './verifiable.js';

const TEST_PATH = [
  /(^|\/)(tests?|testing|__tests__|spec)\//,
  /(^|\/)test_[^/]*\.py$/,
  /_test\.(py|go)$/,
  /\.(test|spec)\.[cm]?[jt]sx?$/,
  /(^|\/)conftest\.py$/,
  /Tests?\.(java|kt|cs)$/,
];

/** True for paths that hold tests rather than the code under test. */
export function isTestPath(path: string): boolean {
  return TEST_PATH.some((pattern) => pattern.test(path));
}

/**
 * Why a patch changes no source of the project, or undefined when it does: it touches only tests and scratch
 * files, or only adds new files. A patch that adds files and changes none that existed is, in real agent
 * runs, a script the agent left behind (`bug_reproduction.py`, `replicate_issue.py`, notes), never the fix:
 * all 150 such candidates of 135 labelled SWE-bench Lite issues were unresolved.
 */
export function noSourceChange(patch: string): string | undefined {
  const files = changedFiles(patch);
  const source = files.filter((f) => !isTestPath(f) && !isScratch(f, DEFAULT_SCRATCH_PATTERNS));
  if (source.length === 0) return `only touches tests or scratch files (${files.join(', ')})`;
  if (parsePatch(patch).every((file) => file.status === 'added')) return `only adds new files (${files.join(', ')}); changes no existing file`;
  return undefined;
}

/**
 * Signal 2: the patch is non-empty, changes source (see `noSourceChange`), and (when checked against the
 * snapshot) applies. Score 1 or 0. `applies` is the outcome of `git apply --check`: true, or the error text.
 */
export function validitySignal(candidate: VerifiableCandidate, applies?: true | string, tracked?: ReadonlyMap<string, string>): SignalValue {
  if (candidate.patch.trim() === '') return { status: 'ok', score: 0, detail: 'empty patch' };
  const files = changedFiles(candidate.patch);
  if (files.length === 0) return { status: 'ok', score: 0, detail: 'not a git diff' };
  const noSource = noSourceChange(candidate.patch);
  if (noSource !== undefined) return { status: 'ok', score: 0, detail: noSource };
  const escapes = escapingSymlinks(candidate.patch, tracked);
  if (escapes.length > 0) {
    return { status: 'ok', score: 0, detail: `adds symbolic links that point outside the repository: ${escapes.map((l) => `${l.path} -> ${l.target}`).join(', ')}` };
  }
  if (typeof applies === 'string') return { status: 'ok', score: 0, detail: `does not apply: ${applies}` };
  const where = applies === true ? 'applies to the snapshot' : 'not checked against a checkout';
  return { status: 'ok', score: 1, detail: `${files.length} file(s), ${where}` };
}

/**
 * Symbolic links the patch leaves (git mode 120000: new, changed to a link, or given a new target) whose
 * target leaves the repository: applying one would let later reads and writes through the link reach the
 * user's files outside it (`escape_link -> /`). Targets are resolved as the kernel resolves them, through the
 * patch's other links: `q -> .` then `p -> q/..` reads as staying inside, yet `q/..` is the repository's
 * parent. A chain that loops is refused as well.
 */
export function escapingSymlinks(patch: string, tracked: ReadonlyMap<string, string> = new Map()): { path: string; target: string }[] {
  // The repository's own links first, which the patch's own replace where it changes them.
  const links = new Map<string, string>(tracked);
  const own = new Set<string>();
  for (const file of parsePatch(patch)) {
    const isLink = file.header.some((line) => /^(new file mode|new mode) 120000$|^index [0-9a-f]+\.\.[0-9a-f]+ 120000$/.test(line));
    if (!isLink || file.newPath === null) continue;
    // A link's content is its target, on the hunk's one added line; git quotes no content.
    const target = file.body.find((line) => line.startsWith('+') && !line.startsWith('+++'))?.slice(1);
    // A link the patch gives no readable target is refused, not trusted.
    links.set(file.newPath, target ?? '/');
    own.add(file.newPath);
  }
  // A tracked link the patch deletes, renames or makes a file is gone (a path it makes a link anew stays one).
  for (const file of parsePatch(patch)) if (file.oldPath !== null && !own.has(file.oldPath)) links.delete(file.oldPath);
  // Only the patch's links are the candidate's doing: a tracked one that leaves the repository is the user's.
  return [...links].filter(([path]) => own.has(path) && leavesRepository(path, links)).map(([path, target]) => ({ path, target }));
}

// What Linux follows along one path before it answers ELOOP.
const MAX_LINKS = 40;

/** Whether following the link at `path`, and every link of `links` its target passes through, leads outside. */
function leavesRepository(path: string, links: ReadonlyMap<string, string>): boolean {
  const at = posix.dirname(path).split('/').filter((part) => part !== '.' && part !== '');
  const rest = (links.get(path) as string).split('/');
  if (rest[0] === '') return true;
  for (let followed = 0; rest.length > 0;) {
    const part = rest.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) return true;
      at.pop();
      continue;
    }
    at.push(part);
    const target = links.get(at.join('/'));
    if (target === undefined) continue;
    if (++followed > MAX_LINKS || target.startsWith('/')) return true;
    at.pop();
    rest.unshift(...target.split('/'));
  }
  return false;
}
