/** The workspaces one verification runs tests in: the snapshot as it was, and one per candidate with its patch. */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimited } from '../../concurrency.js';
import { isAbort } from '../../errors.js';
import type { HelperSandbox } from '../../sandbox/helperSandbox.js';
import type { MountNamespace } from '../../types.js';
import type { IsolationKind } from '../../worktree/batchMarker.js';
import { chooseIsolation } from '../../worktree/isolation.js';
import { applyPatch } from '../../worktree/patch.js';
import type { Snapshot } from '../../worktree/snapshot.js';
import { createWorkspaces, removeWorkspaces } from '../../worktree/workspaces.js';
import { installedDependencies, linkDependencies, linkedFolders } from '../../worktree/dependencyLinks.js';
import type { VerifiableCandidate } from '../verifiable.js';

/** Checkouts shared by the test-running signals of one verification; `dispose` removes them all. */
export interface CandidateTrees {
  /** The snapshot without any patch. */
  baseline: string;
  /** Each candidate's tree with its patch applied, or why the patch could not be applied. */
  byCandidate: Map<string, string | Error>;
  /** Overlays or worktrees. */
  kind: IsolationKind;
  /** The namespace that holds overlay trees: commands run in them must start inside it. */
  namespace?: MountNamespace;
  /**
   * Each tree (by the path above) with what a test run in it may write, as commands see it: the tree, and
   * its own folder for test reports, outside every tree. No run may write another tree or its reports.
   */
  spaces: Map<string, TreeSpace>;
  /**
   * Folders of a tree (relative to it, '' for the tree itself) that go first on PYTHONPATH in every run:
   * those the user's editable install names in the user's checkout (see editableInstalls.ts).
   */
  importPaths: string[];
  /** The user's folders linked into every tree (installed dependencies), as absolute paths. */
  dependencies: string[];
  /** Removes every tree made; calling it again waits for the first removal. */
  dispose(): Promise<void>;
}

/** One tree as the commands run in it see it. */
export interface TreeSpace {
  /** The tree's path inside the overlay's namespace; the tree's own path for a worktree. */
  inside: string;
  /** Where its test reports go. */
  reportDir: string;
}

/** Options of `prepareCandidateTrees`. */
export interface PrepareTreesOptions {
  /** Folder for the trees; defaults to the worktree module's default, outside the user's tree. */
  baseDir?: string;
  /** Overlays over the snapshot's shared checkout, or worktrees; defaults to what `chooseIsolation` finds here. */
  kind?: IsolationKind;
  concurrency?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Ignored folders of the user's tree linked into every tree, because tests need installed
   * dependencies that a checkout of the snapshot lacks. Defaults to DEFAULT_DEPENDENCY_DIRS.
   */
  linkDependencies?: readonly string[];
  /** Where the repository's filter drivers run as the patches are applied (see worktree/filterDrivers.ts). */
  filterSandbox?: HelperSandbox;
  /** Told, with the candidate's id, when such a driver failed and a file was written unconverted. */
  onWarning?: (message: string) => void;
}

/**
 * Makes one workspace of the snapshot for the baseline and one per candidate, then applies each candidate's
 * patch to its own. With overlays these are fresh copy-on-write views of the snapshot's shared checkout (the
 * one the rollouts used), so no checkout is made per candidate: a tree costs its patch. A patch that does not
 * apply is recorded as that candidate's error, not thrown. The snapshot's ref is left alone: it belongs to
 * the caller.
 */
export async function prepareCandidateTrees(
  snap: Snapshot,
  candidates: readonly Pick<VerifiableCandidate, 'id' | 'patch'>[],
  options: PrepareTreesOptions = {},
): Promise<CandidateTrees> {
  const batchId = `verify-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const kind = options.kind ?? (await chooseIsolation('auto', { baseDir: options.baseDir })).kind;
  const batch = await createWorkspaces(snap, candidates.length + 1, { kind, baseDir: options.baseDir, batchId, signal: options.signal });
  let disposed: Promise<void> | undefined;
  const dispose = (): Promise<void> => (disposed ??= removeWorkspaces(batch, { baseDir: options.baseDir, timeoutMs: options.timeoutMs }));
  try {
    const spaces = new Map(await Promise.all(batch.workspaces.map(async (ws): Promise<[string, TreeSpace]> => {
      const reportDir = join(batch.dir, 'reports', ws.id);
      await mkdir(reportDir, { recursive: true });
      return [ws.path, { inside: ws.inside, reportDir }];
    })));
    const deps = await installedDependencies(snap.root, options.linkDependencies);
    await Promise.all(batch.workspaces.map((ws) => linkDependencies(deps, ws.path)));
    const applied = await mapLimited(candidates, options.concurrency ?? 4, async (candidate, k): Promise<[string, string | Error]> => {
      const ws = batch.workspaces[k + 1];
      try {
        await applyPatch(ws.path, candidate.patch, { signal: options.signal, timeoutMs: options.timeoutMs, namespace: ws.namespace,
          filterSandbox: options.filterSandbox, onWarning: (message) => options.onWarning?.(`${candidate.id}: ${message}`) });
        return [candidate.id, ws.path];
      } catch (error) {
        if (isAbort(error)) throw error;
        return [candidate.id, error instanceof Error ? error : new Error(String(error))];
      }
    });
    return {
      baseline: batch.workspaces[0].path, byCandidate: new Map(applied), kind, namespace: batch.workspaces[0].namespace,
      spaces, importPaths: deps.importPaths, dependencies: linkedFolders(deps), dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
