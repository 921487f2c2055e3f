/** Creates and removes a batch of copy-on-write overlay workspaces over one shared checkout of the snapshot. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, realpath, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AgentError, ErrorReason, throwIfAborted } from '../errors.js';
import { batchPath, defaultBaseDir, updateMarker, writeMarker, type BatchMarker } from './batchMarker.js';
import { startNamespace, stopLeftHolder, type NamespaceHolder, type NamespaceTools } from './namespaceHolder.js';
import { acquireSharedCheckout, type CheckoutProgress, type SharedCheckout } from './sharedCheckout.js';
import type { Snapshot } from './snapshot.js';
import type { IsolatedWorkspace, WorkspaceBatch } from './workspaceTypes.js';

/** A batch of overlays, with the namespace that holds them and the checkout under them. */
export interface OverlayBatch extends WorkspaceBatch {
  kind: 'overlay';
  holder?: NamespaceHolder;
  checkout?: SharedCheckout;
}

/** Options of `createOverlays`. */
export interface CreateOverlaysOptions {
  tools: NamespaceTools;
  /** Folder under which batches live; defaults to `<os tmpdir>/entropo-worktrees`. */
  baseDir?: string;
  batchId?: string;
  signal?: AbortSignal;
  /** Progress of the shared checkout, when it has to be made or updated first. */
  onProgress?: (progress: CheckoutProgress) => void;
}

/**
 * Makes `count` workspaces that each show the snapshot and keep their own changes: overlays whose lower layer
 * is the snapshot's shared checkout (made, updated or reused) and whose upper layers are small folders of
 * this batch, all mounted in one private namespace. Creation costs the same whatever the repository's size
 * once the checkout exists. On failure removes what it made, then throws.
 */
export async function createOverlays(snap: Snapshot, count: number, options: CreateOverlaysOptions): Promise<OverlayBatch> {
  if (!Number.isInteger(count) || count < 1) {
    throw new AgentError(ErrorReason.InvalidArgument, `workspace count must be a positive integer, got ${count}`);
  }
  throwIfAborted(options.signal);
  const baseDir = options.baseDir ?? defaultBaseDir();
  await mkdir(baseDir, { recursive: true });
  // Overlay options and /proc paths need the folder's real name; a symlinked temp folder would not match.
  const base = await realpath(baseDir);
  const id = options.batchId ?? `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const dir = batchPath(snap.root, id, base);
  await writeMarker(dir, snap, { kind: 'overlay' });
  const batch: OverlayBatch = { id, dir, snapshot: snap, kind: 'overlay', workspaces: [] };
  try {
    batch.checkout = await acquireSharedCheckout(snap, {
      baseDir: base, signal: options.signal, onProgress: options.onProgress,
      claim: (checkout) => updateMarker(dir, { checkout: checkout.name }),
    });
    const lower = batch.checkout.dir;
    const layers = Array.from({ length: count }, (_, k) => {
      const layer = join(dir, 'layers', `r${k}`);
      return { id: `r${k}`, target: join(dir, `r${k}`), upper: join(layer, 'upper'), work: join(layer, 'work'), lower };
    });
    await Promise.all(layers.flatMap((l) => [mkdir(l.target), mkdir(l.upper, { recursive: true }), mkdir(l.work, { recursive: true })]));
    const holder = await startNamespace(options.tools, layers, options.signal);
    batch.holder = holder;
    await updateMarker(dir, { holder: { pid: holder.pid, startTime: holder.startTime } });
    batch.workspaces = layers.map((l): IsolatedWorkspace => ({
      id: l.id, path: holder.namespace.hostRoot + l.target, inside: l.target, namespace: holder.namespace, layers: { lower, upper: l.upper },
    }));
    return batch;
  } catch (error) {
    await removeOverlays(batch);
    throw error;
  }
}

/**
 * Ends the batch's namespace (the kernel kills what still runs in it and drops its mounts), then deletes the
 * batch folder with every upper layer. The shared checkout stays for the next batch; the snapshot ref is the
 * caller's. Takes no AbortSignal: cleanup always runs to the end.
 */
export async function removeOverlays(batch: Pick<OverlayBatch, 'dir' | 'holder'>): Promise<void> {
  await batch.holder?.stop();
  await removeBatchFolder(batch.dir);
}

/** Removes an overlay batch left by a process that died: its holder if it somehow still runs, and its folder. */
export async function removeStaleOverlays(dir: string, marker: BatchMarker | null): Promise<void> {
  if (marker?.holder) stopLeftHolder(marker.holder.pid, marker.holder.startTime);
  await removeBatchFolder(dir);
}

async function removeBatchFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EACCES' && error.code !== 'EPERM') throw error;
    // A folder the agent made unreadable (chmod 000) stops rm; its owner may open it up again.
    await openUp(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  // The per-repository folder goes too once its last batch is gone; rmdir leaves a non-empty one alone.
  await rmdir(dirname(dir)).catch(() => undefined);
}

async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => openUp(join(dir, e.name))));
}
