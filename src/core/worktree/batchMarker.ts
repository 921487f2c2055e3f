/** Where batches of workspaces live, and the marker file that says which process owns one. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from './snapshot.js';

/** How a batch's workspaces are isolated: overlays over one shared checkout, or one git worktree each. */
export type IsolationKind = 'overlay' | 'worktree';

/** Contents of a batch's `owner.json`. */
export interface BatchMarker {
  pid: number;
  repoRoot: string;
  snapshotRef: string;
  commit: string;
  createdAt: string;
  /** Absent in markers written before overlays existed: those are worktree batches. */
  kind?: IsolationKind;
  /** Overlay batches: the shared checkout they mount (its folder name under `.shared`). */
  checkout?: string;
  /** Overlay batches: the holder process, so that a later start can end one left behind. */
  holder?: { pid: number; startTime: number };
}

/** File name of the marker inside a batch folder. */
export const MARKER = 'owner.json';

/** Name of the folder, next to a repository's batches, that holds its shared checkouts. */
export const SHARED_DIR = '.shared';

// A batch folder without a marker is either being created right now or the leftover of a crash between
// mkdir and writing the marker; only the latter is this old.
const UNMARKED_GRACE_MS = 10 * 60_000;

/** Default parent of all batches. */
export function defaultBaseDir(): string {
  return join(tmpdir(), 'entropo-worktrees');
}

/** The folder of one batch of the repository at `repoRoot`. */
export function batchPath(repoRoot: string, batchId: string, baseDir = defaultBaseDir()): string {
  const repoHash = createHash('sha256').update(repoRoot).digest('hex').slice(0, 16);
  return join(baseDir, repoHash, batchId);
}

/** Creates the batch folder and its marker; fails if another creator already holds this batch id. */
export async function writeMarker(dir: string, snap: Snapshot, extra: Pick<BatchMarker, 'kind' | 'checkout' | 'holder'> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const marker: BatchMarker = {
    pid: process.pid, repoRoot: snap.root, snapshotRef: snap.ref, commit: snap.commit, createdAt: new Date().toISOString(), ...extra,
  };
  // 'wx' makes the marker the lock: a second creator of the same batch id fails here.
  await writeFile(join(dir, MARKER), JSON.stringify(marker, null, 2), { flag: 'wx' });
}

/** Rewrites an existing marker with more of what the batch holds (the holder, once it runs). */
export async function updateMarker(dir: string, extra: Pick<BatchMarker, 'checkout' | 'holder'>): Promise<void> {
  const marker = await readMarker(dir);
  if (marker) await writeFile(join(dir, MARKER), JSON.stringify({ ...marker, ...extra }, null, 2));
}

/** The marker of a batch folder, or null when it has none (or an unreadable one). */
export async function readMarker(dir: string): Promise<BatchMarker | null> {
  try {
    const marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Partial<BatchMarker>;
    return typeof marker.pid === 'number' ? (marker as BatchMarker) : null;
  } catch {
    return null;
  }
}

/** True for a folder changed within the grace period of a batch still being created. */
export async function isRecent(dir: string): Promise<boolean> {
  const info = await stat(dir).catch(() => null);
  return info !== null && Date.now() - info.mtimeMs < UNMARKED_GRACE_MS;
}
