/** Captures the user's working state as an unreferenced commit, leaving their index, tree, stash and refs alone. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { realpath, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AgentError, ErrorReason, throwIfAborted } from '../errors.js';
import { copyIndex, git, gitResult, type GitOptions } from './git.js';
import { removeScratchDir, scratchDir } from '../node/scratchDir.js';

/** The user's state frozen as a commit; `ref` keeps it from being garbage-collected while in use. */
export interface Snapshot {
  /** The snapshot commit: HEAD plus staged, unstaged and untracked-not-ignored changes. */
  commit: string;
  /** The commit HEAD pointed to, or null in a repository without commits. */
  baseHead: string | null;
  /** Absolute, symlink-resolved top level of the user's working tree. */
  root: string;
  /** `refs/entropo/snapshots/<pid>-<id>`; the pid lets `pruneStale` drop refs of crashed processes. */
  ref: string;
}

/** Options of `snapshot` and `releaseSnapshot`. */
export interface SnapshotOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Namespace of our refs: outside refs/heads and refs/tags, so no branch list, push or fetch ever shows them. */
export const SNAPSHOT_REF_PREFIX = 'refs/entropo/snapshots/';

// commit-tree refuses to run without an identity, and the user's may be unset; this one also marks the
// commit as ours in `git log --all`.
const IDENTITY = {
  GIT_AUTHOR_NAME: 'EntroPO snapshot',
  GIT_AUTHOR_EMAIL: 'snapshot@entropo.invalid',
  GIT_COMMITTER_NAME: 'EntroPO snapshot',
  GIT_COMMITTER_EMAIL: 'snapshot@entropo.invalid',
};

/** Snapshots the repository containing `dir` into a new commit and a ref under `refs/entropo/snapshots/`. */
export async function snapshot(dir: string, options: SnapshotOptions = {}): Promise<Snapshot> {
  const { root, indexPath } = await locateRepository(dir, options);
  const baseHead = await headCommit(root, options);
  const tree = await treeOfWorkingState(root, indexPath, options);
  const parents = baseHead ? ['-p', baseHead] : [];
  const message = `entropo snapshot\n\nbase: ${baseHead ?? '(no commits)'}\n`;
  const commit = (
    await git(['commit-tree', '--no-gpg-sign', tree, ...parents, '-m', message], {
      ...options,
      cwd: root,
      env: IDENTITY,
    })
  ).trim();
  const ref = `${SNAPSHOT_REF_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`;
  // The empty old value makes update-ref fail rather than overwrite a ref that already exists.
  await git(['update-ref', '-m', 'entropo snapshot', ref, commit, ''], { ...options, cwd: root });
  return { commit, baseHead, root, ref };
}

/** Deletes a snapshot's ref; the commit stays readable until git's own garbage collection expires it. */
export async function releaseSnapshot(snap: Pick<Snapshot, 'root' | 'ref'>, options: SnapshotOptions = {}): Promise<void> {
  if (!snap.ref.startsWith(SNAPSHOT_REF_PREFIX)) {
    throw new AgentError(ErrorReason.InvalidArgument, `refusing to delete ${snap.ref}: not a snapshot ref`);
  }
  await git(['update-ref', '-d', snap.ref], { ...options, cwd: snap.root });
  // git removes the ref file but leaves refs/entropo/ behind; rmdir only succeeds on an empty folder, so a
  // ref another process adds meanwhile is never lost.
  const common = (await git(['rev-parse', '--git-common-dir'], { ...options, cwd: snap.root })).trim();
  for (const folder of ['refs/entropo/snapshots', 'refs/entropo']) {
    await rmdir(resolve(snap.root, common, folder)).catch(() => undefined);
  }
}

/** Finds the top level of the working tree and the user's index file, or explains how to get a repository. */
export async function locateRepository(
  dir: string,
  options: SnapshotOptions = {},
): Promise<{ root: string; indexPath: string }> {
  throwIfAborted(options.signal);
  const exists = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!exists) throw new AgentError(ErrorReason.FileNotFound, `${dir} does not exist or is not a folder.`);
  const result = await gitResult(['rev-parse', '--show-toplevel', '--git-path', 'index'], { ...options, cwd: dir });
  if (result.code !== 0) {
    throw new AgentError(
      ErrorReason.NotAGitRepository,
      `${dir} is not inside a git working tree, so its state cannot be snapshotted. Open the repository's ` +
        'folder instead, or make this folder a repository first: `git init`, then `git add -A` and ' +
        '`git commit -m "initial"`.',
      { cause: result },
    );
  }
  const [top, index] = result.stdout.split('\n');
  return { root: await realpath(top), indexPath: resolve(dir, index) };
}

async function headCommit(root: string, options: SnapshotOptions): Promise<string | null> {
  const result = await gitResult(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { ...options, cwd: root });
  return result.code === 0 ? result.stdout.trim() : null;
}

/**
 * Installed dependencies that git does not ignore only because nobody listed them (a `.venv` made by hand, a
 * `node_modules` in a repository without a .gitignore), as pathspec globs: they are no part of any change,
 * and would copy megabytes of packages into the repository's objects. Workspaces and verification trees get
 * them linked in instead (dependencyLinks.ts). A glob that matches a tracked file (vendored packages) is
 * kept: the snapshot must hold every change to what the repository tracks.
 */
async function untrackedDependencies(root: string, opts: GitOptions): Promise<string[]> {
  const found: [string, string][] = existsSync(join(root, 'node_modules')) ? [['node_modules', '**/node_modules/**']] : [];
  for (const venv of ['.venv', 'venv']) if (existsSync(join(root, venv, 'pyvenv.cfg'))) found.push([venv, `${venv}/**`]);
  const untracked: string[] = [];
  for (const [folder, glob] of found) {
    // An ignored one is left out anyway, and git refuses a pathspec that names ignored paths.
    if ((await gitResult(['check-ignore', '-q', '--', folder], opts)).code === 0) continue;
    if ((await git(['ls-files', '-z', '--', `:(glob)${glob}`], opts)) === '') untracked.push(glob);
  }
  return untracked;
}

// A temporary copy of the user's index keeps its stat cache, so `add -A` only hashes files that changed;
// the user's own index is only ever read.
async function treeOfWorkingState(root: string, indexPath: string, options: SnapshotOptions): Promise<string> {
  const scratch = await scratchDir('entropo-index-');
  try {
    const tempIndex = join(scratch, 'index');
    await copyIndex(indexPath, tempIndex);
    // Both grow with the repository (add -A looks at every file), so on a slow disk they get no time limit
    // unless the caller sets one; the signal still stops them.
    const opts = { ...options, timeoutMs: options.timeoutMs ?? Infinity, cwd: root, env: { GIT_INDEX_FILE: tempIndex } };
    // Submodules and nested repositories are recorded as gitlinks by add -A, never recursed into.
    await git(['add', '-A', '--', ':/', ...(await untrackedDependencies(root, opts)).map((glob) => `:(exclude,glob)${glob}`)], opts);
    return (await git(['write-tree'], opts)).trim();
  } finally {
    await removeScratchDir(scratch);
  }
}
