/** The front door to isolated workspaces: overlays or worktrees, made, read as patches, and removed alike. */
import { AgentError, ErrorReason } from '../errors.js';
import type { IsolationKind } from './batchMarker.js';
import { extractOverlayPatch } from './overlayPatch.js';
import { probeOverlays } from './overlayProbe.js';
import { createOverlays, removeOverlays, type OverlayBatch } from './overlays.js';
import { extractPatch, type ExtractPatchOptions } from './patch.js';
import type { CheckoutProgress } from './sharedCheckout.js';
import type { Snapshot } from './snapshot.js';
import type { IsolatedWorkspace, WorkspaceBatch } from './workspaceTypes.js';
import { createWorktrees, removeWorktrees } from './worktrees.js';

/** Options of `createWorkspaces`. */
export interface CreateWorkspacesOptions {
  kind: IsolationKind;
  /** Folder under which batches live; defaults to `<os tmpdir>/entropo-worktrees`. */
  baseDir?: string;
  /** Names the batch (e.g. after the task); defaults to a random id. */
  batchId?: string;
  signal?: AbortSignal;
  /** Worktrees only: most checkouts running at once; defaults to all of them. */
  concurrency?: number;
  /** Progress of checkouts that grow with the repository (the shared checkout of an overlay batch). */
  onProgress?: (progress: CheckoutProgress) => void;
}

/** Makes `count` workspaces of the snapshot, `r0` .. `r<count-1>`; on failure removes what it made, then throws. */
export async function createWorkspaces(snap: Snapshot, count: number, options: CreateWorkspacesOptions): Promise<WorkspaceBatch> {
  if (options.kind === 'overlay') {
    const support = await probeOverlays({ baseDir: options.baseDir });
    if (!support.available || !support.tools) throw new AgentError(ErrorReason.Config, `Overlay workspaces do not work here: ${support.reason}.`);
    return createOverlays(snap, count, { ...options, tools: support.tools });
  }
  const batch = await createWorktrees(snap, count, options);
  return { id: batch.id, dir: batch.dir, snapshot: snap, kind: 'worktree',
    workspaces: batch.paths.map((path, k) => ({ id: `r${k}`, path, inside: path })) };
}

/** Removes every workspace of the batch and its folder; the snapshot ref and a shared checkout stay. */
export async function removeWorkspaces(batch: WorkspaceBatch, options: { baseDir?: string; timeoutMs?: number } = {}): Promise<void> {
  if (batch.kind === 'overlay') return removeOverlays(batch as OverlayBatch);
  await removeWorktrees({ id: batch.id, dir: batch.dir, snapshot: batch.snapshot, paths: batch.workspaces.map((w) => w.path) },
    { ...options, keepSnapshot: true });
}

/** The workspace's changes as a patch against the snapshot commit (see `extractPatch`). */
export function workspacePatch(ws: IsolatedWorkspace, snapshotCommit: string, options: ExtractPatchOptions = {}): Promise<string> {
  return ws.layers ? extractOverlayPatch(ws, snapshotCommit, options) : extractPatch(ws.path, snapshotCommit, options);
}
