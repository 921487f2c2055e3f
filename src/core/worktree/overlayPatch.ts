/**
 * A candidate's patch from an overlay workspace, in time that grows with what the rollout changed rather
 * than with the repository: the upper layer already lists every path the rollout touched.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { warnOfFailedDrivers, withContainedFilters } from './filterDrivers.js';
import { copyIndex, git, gitResult, gitSucceeded, type GitOptions } from './git.js';
import { patchOfIndex, submoduleExcludes, type ExtractPatchOptions } from './patch.js';
import type { IsolatedWorkspace } from './workspaceTypes.js';
import { removeScratchDir, scratchDir } from '../node/scratchDir.js';

/** What the upper layer says changed, relative to the workspace's top level. */
export interface UpperChanges {
  /** Files and symbolic links written, created, moved here or changed in mode. */
  written: string[];
  /** Paths of the lower layer that the merged view no longer shows (deleted, moved away, hidden by a new folder). */
  removed: string[];
  /** Folders holding their own `.git` (a repository the agent made or cloned): git records them as a whole. */
  nested: string[];
}

/**
 * The diff from the snapshot commit to the overlay's merged files, exactly what `extractPatch` gives for a
 * worktree (new files included, ignored and scratch files left out), built from the lower layer's index
 * plus the paths the upper layer holds. Anything unexpected in the layers (a folder the agent made
 * unreadable) falls back to `git add -A` over the whole merged view: slower, equally right.
 */
export async function extractOverlayPatch(ws: IsolatedWorkspace, snapshotCommit: string, options: ExtractPatchOptions = {}): Promise<string> {
  if (!ws.layers || !ws.namespace) throw new AgentError(ErrorReason.InvalidArgument, `${ws.id} is not an overlay workspace`);
  const scratch = await scratchDir('entropo-patch-');
  try {
    const tempIndex = join(scratch, 'index');
    // The lower layer's index is the snapshot exactly, whatever the agent did to the workspace's own index.
    await copyIndex(join(ws.layers.lower, '.git', 'index'), tempIndex);
    // Pathspecs are read literally: a file may be named `*` or `:(glob)x`.
    const base = { signal: options.signal, timeoutMs: options.timeoutMs, cwd: ws.path, namespace: ws.namespace };
    const changes = await upperChanges(ws.layers.upper, ws.layers.lower, ws.path).catch(() => null);
    return await withContainedFilters(options.filterSandbox, base, async (filters) => {
      const opts: GitOptions = { ...base, env: { GIT_INDEX_FILE: tempIndex, GIT_LITERAL_PATHSPECS: '1' }, filters };
      const excludes = await submoduleExcludes(opts);
      const stderr = changes === null
        ? (await gitSucceeded(['add', '-A', '--', '.', ...excludes], { ...opts, env: withMagic(opts), timeoutMs: options.timeoutMs ?? Infinity })).stderr
        : await stage({ ...changes, nested: changes.nested.filter((path) => !excludes.includes(`:(exclude,literal)${path}`)) }, opts);
      warnOfFailedDrivers(stderr, options.onWarning, ws.inside);
      return patchOfIndex(opts, ws.inside, snapshotCommit, options);
    });
  } finally {
    await removeScratchDir(scratch);
  }
}

/** Reads the upper layer: every non-folder entry is a change, and folders of both layers are compared for removals. */
export async function upperChanges(upper: string, lower: string, merged: string): Promise<UpperChanges> {
  const changes: UpperChanges = { written: [], removed: [], nested: [] };
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(upper, rel), { withFileTypes: true });
    if (rel !== '' && entries.some((e) => e.name === '.git')) {
      changes.nested.push(rel);
      return;
    }
    const lowerKind = await kind(join(lower, rel));
    if (lowerKind === 'dir') {
      // Whatever the lower folder holds that the merged view lacks is gone: whiteouts, and everything under
      // a folder that was deleted and made again (an opaque folder, which has no whiteouts of its own).
      const shown = new Set(await readdir(join(merged, rel)));
      for (const name of await readdir(join(lower, rel))) if (!shown.has(name)) changes.removed.push(join(rel, name));
    } else if (lowerKind === 'other' && rel !== '') changes.removed.push(rel);
    for (const entry of entries) {
      const path = rel === '' ? entry.name : join(rel, entry.name);
      if (rel === '' && entry.name === '.git') continue;
      if (entry.isDirectory()) await walk(path);
      // A whiteout (a 0:0 character device) only hides a lower path, which the comparison above caught; git
      // records files and links only, and skips sockets and pipes like `add -A` does.
      else if (entry.isFile() || entry.isSymbolicLink()) changes.written.push(path);
    }
  };
  await walk('');
  return changes;
}

const ARGV_SLICE = 500;

// Removals first, so that a path that became a folder (or stopped being one) is added cleanly afterwards.
// Resolves with what git said while it hashed files (a filter driver's failure).
async function stage(changes: UpperChanges, opts: GitOptions): Promise<string> {
  let said = '';
  const nul = (paths: string[]) => paths.join('\0') + '\0';
  if (changes.removed.length > 0) {
    const paths: string[] = [];
    // In slices, so that a rollout that deleted thousands of top-level entries stays within argv's limits.
    for (let at = 0; at < changes.removed.length; at += ARGV_SLICE) {
      const tracked = await git(['ls-files', '-z', '--cached', '--', ...changes.removed.slice(at, at + ARGV_SLICE)], opts);
      paths.push(...tracked.split('\0').filter(Boolean));
    }
    if (paths.length > 0) await git(['update-index', '--force-remove', '-z', '--stdin'], { ...opts, input: nul(paths) });
  }
  if (changes.written.length > 0) {
    // `git add -A` skips untracked files that .gitignore covers (build output, caches); so must we.
    // check-ignore reads plain paths and refuses the literal-pathspec switch.
    const checked = await gitResult(['check-ignore', '-z', '--stdin'], { ...opts, env: withMagic(opts), input: nul(changes.written) });
    if (checked.code !== 0 && checked.code !== 1) throw new AgentError(ErrorReason.GitFailed, `git check-ignore failed: ${checked.stderr.trim()}`);
    const ignored = new Set(checked.stdout.split('\0').filter(Boolean));
    const paths = changes.written.filter((path) => !ignored.has(path));
    if (paths.length > 0) said += (await gitSucceeded(['update-index', '--add', '--replace', '-z', '--stdin'], { ...opts, input: nul(paths) })).stderr;
  }
  for (let at = 0; at < changes.nested.length; at += ARGV_SLICE) said += (await gitSucceeded(['add', '-A', '--', ...changes.nested.slice(at, at + ARGV_SLICE)], opts)).stderr;
  return said;
}

// The environment of `opts` without GIT_LITERAL_PATHSPECS, for pathspecs with magic (an exclusion) and for
// check-ignore, which refuses the switch.
function withMagic(opts: GitOptions): Record<string, string> {
  const env = { ...opts.env };
  delete env.GIT_LITERAL_PATHSPECS;
  return env;
}

async function kind(path: string): Promise<'dir' | 'other' | 'none'> {
  const info = await lstat(path).catch(() => null);
  return info === null ? 'none' : info.isDirectory() ? 'dir' : 'other';
}
