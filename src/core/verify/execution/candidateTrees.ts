/** The worktrees one verification runs tests in: the snapshot as it was, and one per candidate with its patch. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimited } from '../../concurrency.js';
import { isAbort } from '../../errors.js';
import { applyPatch } from '../../worktree/patch.js';
import type { Snapshot } from '../../worktree/snapshot.js';
import { createWorktrees, removeWorktrees } from '../../worktree/worktrees.js';
import type { VerifiableCandidate } from '../verifiable.js';

/** Checkouts shared by the test-running signals of one verification; `dispose` removes them all. */
export interface CandidateTrees {
  /** The snapshot without any patch. */
  baseline: string;
  /** Each candidate's checkout with its patch applied, or why the patch could not be applied. */
  byCandidate: Map<string, string | Error>;
  /** Removes every worktree made; calling it again waits for the first removal. */
  dispose(): Promise<void>;
}

/** Options of `prepareCandidateTrees`. */
export interface PrepareTreesOptions {
  /** Folder for the worktrees; defaults to the worktree module's default, outside the user's tree. */
  baseDir?: string;
  concurrency?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Ignored folders of the user's tree linked into every checkout, because tests need installed
   * dependencies that a checkout of the snapshot lacks. Defaults to node_modules, .venv and venv.
   */
  linkDependencies?: readonly string[];
}

/** Folders with installed dependencies that git ignores and tests need. */
export const DEFAULT_DEPENDENCY_DIRS: readonly string[] = ['node_modules', '.venv', 'venv'];

/**
 * Creates one worktree of the snapshot for the baseline and one per candidate, then applies each candidate's
 * patch to its own. A patch that does not apply is recorded as that candidate's error, not thrown. The
 * snapshot's ref is left alone: it belongs to the caller.
 */
export async function prepareCandidateTrees(
  snap: Snapshot,
  candidates: readonly Pick<VerifiableCandidate, 'id' | 'patch'>[],
  options: PrepareTreesOptions = {},
): Promise<CandidateTrees> {
  const batchId = `verify-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const batch = await createWorktrees(snap, candidates.length + 1, {
    baseDir: options.baseDir, batchId, signal: options.signal, timeoutMs: options.timeoutMs,
  });
  let disposed: Promise<void> | undefined;
  const dispose = (): Promise<void> =>
    (disposed ??= removeWorktrees(batch, { baseDir: options.baseDir, keepSnapshot: true, timeoutMs: options.timeoutMs }));
  try {
    const links = options.linkDependencies ?? DEFAULT_DEPENDENCY_DIRS;
    await Promise.all(batch.paths.map((path) => linkDependencies(snap.root, path, links)));
    const applied = await mapLimited(candidates, options.concurrency ?? 4, async (candidate, k): Promise<[string, string | Error]> => {
      const path = batch.paths[k + 1];
      try {
        await applyPatch(path, candidate.patch, { signal: options.signal, timeoutMs: options.timeoutMs });
        return [candidate.id, path];
      } catch (error) {
        if (isAbort(error)) throw error;
        return [candidate.id, error instanceof Error ? error : new Error(String(error))];
      }
    });
    return { baseline: batch.paths[0], byCandidate: new Map(applied), dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function linkDependencies(userRoot: string, tree: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const source = join(userRoot, name);
    const target = join(tree, name);
    if (existsSync(source) && !existsSync(target)) await symlink(source, target, 'dir');
  }
}
