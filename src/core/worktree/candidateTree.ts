/** A candidate's files without a worktree: the snapshot's tree with the patch applied in a temporary index. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { detectSandbox } from '../sandbox/detectSandbox.js';
import type { HelperSandbox } from '../sandbox/helperSandbox.js';
import { uncontainedDrivers, withContainedFilters } from './filterDrivers.js';
import { errorLine, git, gitResult } from './git.js';
import { parsePatch } from './parse.js';
import { applyPatch, changedFiles } from './patch.js';
import { removeScratchDir, scratchDir } from '../node/scratchDir.js';

/**
 * The tree id of `snapshotCommit` with `patch` applied, computed in a temporary index: nothing on disk
 * changes. Throws AgentError(PatchDoesNotApply) with git's reason when the patch does not apply.
 */
export async function patchedTree(root: string, snapshotCommit: string, patch: string, signal?: AbortSignal): Promise<string> {
  const scratch = await scratchDir('entropo-tree-');
  try {
    // read-tree and write-tree walk the whole tree: no time limit a large repository on a slow disk could hit.
    const opts = { cwd: root, signal, timeoutMs: Infinity, env: { GIT_INDEX_FILE: join(scratch, 'index') } };
    await git(['read-tree', snapshotCommit], opts);
    if (patch.trim() !== '') {
      const applied = await gitResult(['apply', '--cached', '--whitespace=nowarn', '-'], { ...opts, input: patch });
      if (applied.code !== 0) throw new AgentError(ErrorReason.PatchDoesNotApply, errorLine(applied.stderr));
    }
    return (await git(['write-tree'], opts)).trim();
  } finally {
    await removeScratchDir(scratch);
  }
}

/** A file's content in a commit or tree, or undefined when the path does not exist there. */
export async function readBlob(root: string, treeish: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
  const result = await gitResult(['cat-file', 'blob', `${treeish}:${path}`], { cwd: root, signal });
  return result.code === 0 ? result.stdout : undefined;
}

// More links than this in one repository are not read: a patch's links are then checked against its own only.
const MAX_TRACKED_LINKS = 10_000;

/** The symbolic links a commit holds, path to target (its blob), for resolving a patch's new links through them. */
export async function trackedLinks(root: string, commit: string, signal?: AbortSignal): Promise<Map<string, string>> {
  const listed = await gitResult(['ls-tree', '-r', '-z', '--full-tree', commit], { cwd: root, signal });
  const links = new Map<string, string>();
  if (listed.code !== 0) return links;
  const entries = listed.stdout.split('\0').filter((entry) => entry.startsWith('120000 ')).slice(0, MAX_TRACKED_LINKS);
  for (const entry of entries) {
    const [meta, path] = [entry.slice(0, entry.indexOf('\t')), entry.slice(entry.indexOf('\t') + 1)];
    const target = await gitResult(['cat-file', 'blob', meta.split(' ')[2]], { cwd: root, signal });
    if (target.code === 0) links.set(path, target.stdout);
  }
  return links;
}

/** Reads a file of a commit or tree as it belongs in the working tree; undefined when the path does not exist there. */
export type WorkingReader = (treeish: string, path: string) => Promise<string | undefined>;

/**
 * Runs `body` with a reader of `files` as a checkout in `root` would write them: line endings and filter
 * drivers applied as the repository's attributes and config say (`git cat-file --filters`), the drivers
 * contained where bubblewrap works (filterDrivers.ts), since the tree may hold a candidate's files. A patch
 * holds files in git's stored form; the working tree holds them converted.
 */
export async function withWorkingReader<T>(root: string, files: readonly string[], body: (read: WorkingReader) => Promise<T>, signal?: AbortSignal): Promise<T> {
  return withContainedFilters(await treeSandbox(root, files), { cwd: root, signal }, (filters) => body(async (treeish, path) => {
    const result = await gitResult(['cat-file', '--filters', `${treeish}:${path}`], { cwd: root, signal, filters });
    return result.code === 0 ? result.stdout : undefined;
  }));
}

/**
 * The paths among `files` whose content in the working tree of `root` differs from the snapshot's, as a
 * checkout would write it (missing counts); `snapshot` may be any commit or tree.
 */
export async function changedSinceSnapshot(root: string, snapshot: string, files: readonly string[]): Promise<string[]> {
  return withWorkingReader(root, files, async (read) => {
    const changed: string[] = [];
    for (const file of files) {
      const now = await readFile(join(root, file), 'utf8').catch(() => undefined);
      if (now !== await read(snapshot, file)) changed.push(file);
    }
    return changed;
  });
}

/**
 * Whether the candidate's change is out of the working tree of `root` (an Undo, a discard, `git stash`,
 * `git checkout`): every file of the snapshot that it changed, deleted or renamed is as the snapshot has it.
 * A file it added that is still there does not count, since a stash or a discard leaves untracked files;
 * a candidate that only adds files is out once none of them is there.
 */
export async function takenBack(root: string, snapshotCommit: string, patch: string): Promise<boolean> {
  const files = parsePatch(patch);
  const old = [...new Set(files.filter((f) => f.status !== 'added' && f.status !== 'copied').map((f) => f.oldPath!))];
  if (old.length > 0) return (await changedSinceSnapshot(root, snapshotCommit, old)).length === 0;
  const added = files.map((f) => f.newPath).filter((p): p is string => p !== null);
  return added.length > 0 && (await changedSinceSnapshot(root, snapshotCommit, added)).length === 0;
}

/** Whether every file the candidate changes is, in the working tree of `root`, exactly the candidate's version. */
export async function holdsCandidate(root: string, snapshotCommit: string, patch: string, signal?: AbortSignal): Promise<boolean> {
  const files = changedFiles(patch);
  if (files.length === 0) return false;
  return (await changedSinceSnapshot(root, await patchedTree(root, snapshotCommit, patch, signal), files)).length === 0;
}

/**
 * Applies a candidate to the user's working tree as ordinary uncommitted changes (the index is not touched),
 * after checking that every file it changes is still as it was in the snapshot; otherwise refuses and names
 * the files that changed. Returns the changed paths. Where bubblewrap works, the repository's filter drivers
 * run contained (filterDrivers.ts) meanwhile: the patch may rewrite one's script before git runs it on a file
 * the patch writes later. `onWarning` hears of one that failed there, leaving a file unconverted.
 */
export async function applyToWorkingTree(root: string, snapshotCommit: string, patch: string, onWarning?: (message: string) => void): Promise<string[]> {
  const files = changedFiles(patch);
  const changed = await changedSinceSnapshot(root, snapshotCommit, files);
  if (changed.length > 0) {
    throw new AgentError(ErrorReason.PatchDoesNotApply,
      `Not applied: ${changed.join(', ')} changed since the candidates were made. Commit or stash those changes, or run again.`);
  }
  await applyPatch(root, patch, { filterSandbox: await treeSandbox(root, files), onWarning });
  return files;
}

/**
 * Takes an applied candidate out of the user's working tree with `git apply -R`, after checking that all of it
 * comes out: a file changed where the candidate changed it is refused with `refused` (given those files), never
 * overwritten. For patches a planned switch cannot write (a binary file, a file mode, a link).
 */
export async function takeOutOfWorkingTree(root: string, patch: string, refused: (files: string[]) => AgentError, onWarning?: (message: string) => void): Promise<void> {
  await applyPatch(root, patch, { reverse: true, refused, filterSandbox: await treeSandbox(root, changedFiles(patch)), onWarning });
}

/**
 * Where the user's tree may hold a candidate's files, its filter drivers run contained. Where no sandbox
 * works, a driver other than Git LFS's own that git would run on `files` would run what the candidate may
 * have put in the tree, on the host: that is refused, before git runs anything.
 */
async function treeSandbox(root: string, files: readonly string[]): Promise<HelperSandbox | undefined> {
  const support = await detectSandbox();
  if (support.available && support.bwrapPath) return { bwrapPath: support.bwrapPath };
  const drivers = await uncontainedDrivers({ cwd: root }, files);
  if (drivers.length === 0) return undefined;
  throw new AgentError(ErrorReason.Config, `Not done: the repository's git filter ${drivers.length === 1 ? 'driver' : 'drivers'} `
    + `${drivers.join(', ')} run as git writes and reads files, and a candidate may have changed what they run, `
    + `which no sandbox can contain here (${support.reason ?? 'the command sandbox is not available'}). Nothing was changed. `
    + 'Read the candidate\'s patch and apply it yourself with git apply, or make bubblewrap work.');
}

/**
 * Whether the candidate's change is committed: HEAD holds exactly the candidate's version of every file it
 * changes, and that differs from the snapshot (so the commit carries the change, not just the old files).
 */
export async function committedAsCandidate(root: string, snapshotCommit: string, patch: string, signal?: AbortSignal): Promise<boolean> {
  const files = changedFiles(patch);
  if (files.length === 0) return false;
  const tree = await patchedTree(root, snapshotCommit, patch, signal);
  const same = await gitResult(['diff', '--quiet', '--no-ext-diff', '--no-textconv', 'HEAD', tree, '--', ...files], { cwd: root, signal });
  if (same.code !== 0) return false;
  const changed = await gitResult(['diff', '--quiet', '--no-ext-diff', '--no-textconv', 'HEAD', snapshotCommit, '--', ...files], { cwd: root, signal });
  return changed.code === 1;
}
