/** Creates, removes and garbage-collects batches of detached worktrees: the isolation where overlays do not work. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, realpath, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { AgentError, ErrorReason, throwIfAborted } from '../errors.js';
import { isAlive } from '../process/groupProcess.js';
import { batchPath, isRecent, readMarker, SHARED_DIR, writeMarker } from './batchMarker.js';
import { git, gitResult } from './git.js';
import { removeStaleOverlays } from './overlays.js';
import { pruneOrphanCheckouts, pruneSharedCheckouts, type CheckoutProgress } from './sharedCheckout.js';
import { locateRepository, releaseSnapshot, SNAPSHOT_REF_PREFIX, type Snapshot } from './snapshot.js';

export { batchPath, defaultBaseDir } from './batchMarker.js';

/** One batch of worktrees checked out from the same snapshot. */
export interface WorktreeBatch {
  id: string;
  /** `<baseDir>/<repo-hash>/<id>`; owned by us, outside the user's tree. */
  dir: string;
  snapshot: Snapshot;
  /** Absolute worktree paths, `r0` .. `r<N-1>`, in rollout order. */
  paths: string[];
}

/** Options of `createWorktrees`. */
export interface CreateWorktreesOptions {
  /** Folder under which batches live; defaults to `<os tmpdir>/entropo-worktrees`. */
  baseDir?: string;
  /** Names the batch (e.g. after the task); defaults to a random id. */
  batchId?: string;
  /** Most `git worktree add` running at once; defaults to all of them. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Per git call that does not grow with the repository; checkouts have none and end only with `signal`. */
  timeoutMs?: number;
  /** Told as each worktree's checkout completes. */
  onProgress?: (progress: CheckoutProgress) => void;
}

/** Options of `removeWorktrees` and `pruneStale`; cleanup deliberately takes no AbortSignal. */
export interface CleanupOptions {
  baseDir?: string;
  /** Keep the snapshot ref, e.g. when a later batch or the verifier still needs the snapshot. */
  keepSnapshot?: boolean;
  timeoutMs?: number;
}

/** What `pruneStale` removed. */
export interface PruneReport {
  /** Batch folders of dead owners: worktrees, or overlays with their upper layers. */
  batches: string[];
  /** Shared checkouts no batch uses any more, beyond the one kept for the next run. */
  checkouts: string[];
  /** git's records of our worktrees whose folders vanished (a temp directory emptied by a reboot). */
  records: string[];
  /** Snapshot refs of dead processes. */
  refs: string[];
}

/** Adds `count` detached worktrees of the snapshot concurrently; on any failure removes what it made, then throws. */
export async function createWorktrees(
  snap: Snapshot,
  count: number,
  options: CreateWorktreesOptions = {},
): Promise<WorktreeBatch> {
  if (!Number.isInteger(count) || count < 1) {
    throw new AgentError(ErrorReason.InvalidArgument, `worktree count must be a positive integer, got ${count}`);
  }
  throwIfAborted(options.signal);
  const id = options.batchId ?? `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const dir = batchPath(snap.root, id, options.baseDir);
  await writeMarker(dir, snap, { kind: 'worktree' });
  const batch: WorktreeBatch = { id, dir, snapshot: snap, paths: [] };
  const paths = Array.from({ length: count }, (_, k) => join(dir, `r${k}`));
  const created: string[] = [];
  try {
    await addAll(snap, paths, created, options);
  } catch (error) {
    await removeWorktrees({ ...batch, paths: created }, { keepSnapshot: true, timeoutMs: options.timeoutMs });
    throw error;
  }
  batch.paths = paths;
  return batch;
}

// `git worktree add` reads every other worktree's records while it writes its own, so concurrent adds race
// ("failed to read .git/worktrees/r2/commondir"). Registering is cheap and done in turn; the checkout, the
// expensive part, then runs concurrently: it is the same `reset --hard` that `worktree add` itself runs.
async function addAll(snap: Snapshot, paths: string[], created: string[], options: CreateWorktreesOptions): Promise<void> {
  const gitOpts = { signal: options.signal, timeoutMs: options.timeoutMs };
  await inTurn(snap.root, async () => {
    for (const path of paths) {
      throwIfAborted(options.signal);
      const args = ['worktree', 'add', '--no-checkout', '--detach', path, snap.commit];
      await git(args, { ...gitOpts, cwd: snap.root });
      created.push(path);
    }
  });
  let done = 0;
  const checkout = (path: string) => async (): Promise<void> => {
    throwIfAborted(options.signal);
    // Writes the whole tree: no time limit that a large checkout on a slow disk could hit.
    await git(['reset', '--hard', '--no-recurse-submodules', '-q'], { ...gitOpts, cwd: path, timeoutMs: Infinity });
    options.onProgress?.({ phase: 'create', unit: 'worktrees', done: ++done, total: paths.length });
  };
  await runLimited(paths.map(checkout), options.concurrency ?? paths.length);
}

/** Removes a batch: each worktree (`git worktree remove --force`), the batch folder, then the snapshot ref. */
export async function removeWorktrees(batch: WorktreeBatch, options: CleanupOptions = {}): Promise<void> {
  const opts = { cwd: batch.snapshot.root, timeoutMs: options.timeoutMs };
  // Deleting a worktree deletes a whole checkout: on a slow disk that has no useful time limit.
  const removal = { ...opts, timeoutMs: options.timeoutMs ?? Infinity };
  // In turn, since `git worktree remove` reads all worktrees' records (see addAll); measured no slower than
  // deleting the files concurrently first. A failure here is left to the folder removal and prune below.
  await inTurn(batch.snapshot.root, async () => {
    for (const path of batch.paths) {
      await gitResult(['worktree', 'remove', '--force', '--force', path], removal).catch(() => undefined);
    }
  });
  await rm(batch.dir, { recursive: true, force: true, maxRetries: 3 });
  // The per-repository folder goes too once its last batch is gone; rmdir leaves a non-empty one alone.
  await rmdir(dirname(batch.dir)).catch(() => undefined);
  // A global prune would also drop records of the user's own worktrees whose folders are missing right now
  // (an unmounted disk), so it is only the fallback for records of ours that the removal above left.
  if ((await registeredUnder(batch.dir, opts)).length > 0) await git(['worktree', 'prune'], opts);
  if (!options.keepSnapshot) await releaseIfPresent(opts.cwd, batch.snapshot.ref, options);
}

/**
 * Removes batches (worktrees or overlays) and snapshot refs of this repository whose owning process is no
 * longer alive, the shared checkouts no batch uses beyond the one kept for the next run, and the shared
 * checkouts of any repository that no longer exists.
 */
export async function pruneStale(repoRoot: string, options: CleanupOptions = {}): Promise<PruneReport> {
  const { root } = await locateRepository(repoRoot, { timeoutMs: options.timeoutMs });
  const repoDir = batchPath(root, '', options.baseDir);
  const report: PruneReport = { batches: [], checkouts: [], records: [], refs: [] };
  const entries = await readdir(repoDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.filter((e) => e.isDirectory() && e.name !== SHARED_DIR)) {
    const dir = join(repoDir, entry.name);
    const marker = await readMarker(dir);
    if (marker ? isAlive(marker.pid) : await isRecent(dir)) continue;
    report.batches.push(dir);
    // An overlay batch is plain folders on this side; its namespace ended with its owner.
    if (marker?.kind === 'overlay' || (!marker && existsSync(join(dir, 'layers')))) {
      await removeStaleOverlays(dir, marker);
      continue;
    }
    const paths = (await readdir(dir)).filter((name) => /^r\d+$/.test(name)).map((name) => join(dir, name));
    const snap: Snapshot = { commit: marker?.commit ?? '', baseHead: null, root, ref: marker?.snapshotRef ?? '' };
    // The batch's ref goes below with every ref whose creator is dead; a ref of a live process is never touched.
    await removeWorktrees({ id: entry.name, dir, snapshot: snap, paths }, { ...options, keepSnapshot: true });
  }
  report.checkouts = [...await pruneSharedCheckouts(root, { baseDir: options.baseDir }), ...await pruneOrphanCheckouts(options.baseDir)];
  report.records = await pruneOrphanRecords(root, repoDir, options);
  report.refs = await pruneSnapshotRefs(root, options);
  return report;
}


async function pruneOrphanRecords(root: string, repoDir: string, options: CleanupOptions): Promise<string[]> {
  const orphans = (await registeredUnder(repoDir, { cwd: root, timeoutMs: options.timeoutMs })).filter(
    (path) => !existsSync(path),
  );
  for (const path of orphans) {
    await git(['worktree', 'remove', '--force', '--force', path], { cwd: root, timeoutMs: options.timeoutMs });
  }
  return orphans;
}

/** Worktrees git has on record below `dir`, which may be spelled through a symlink or not (macOS /var). */
async function registeredUnder(dir: string, opts: { cwd: string; timeoutMs?: number }): Promise<string[]> {
  // Newline-separated rather than -z, which git only has since 2.36.
  const listing = await git(['worktree', 'list', '--porcelain'], opts);
  const parent = dirname(dir);
  const prefixes = [dir + sep, join(await realpath(parent).catch(() => parent), basename(dir)) + sep];
  return listing
    .split('\n')
    .filter((field) => field.startsWith('worktree '))
    .map((field) => field.slice('worktree '.length))
    .filter((path) => prefixes.some((prefix) => path.startsWith(prefix)));
}

async function pruneSnapshotRefs(root: string, options: CleanupOptions): Promise<string[]> {
  const out = await git(['for-each-ref', '--format=%(refname)', SNAPSHOT_REF_PREFIX], {
    cwd: root,
    timeoutMs: options.timeoutMs,
  });
  const stale = out
    .split('\n')
    .filter(Boolean)
    .filter((ref) => !isAlive(Number(ref.slice(SNAPSHOT_REF_PREFIX.length).split('-')[0])));
  for (const ref of stale) await releaseIfPresent(root, ref, options);
  return stale;
}

async function releaseIfPresent(root: string, ref: string, options: CleanupOptions): Promise<void> {
  if (!ref.startsWith(SNAPSHOT_REF_PREFIX)) return;
  const exists = await gitResult(['rev-parse', '-q', '--verify', ref], { cwd: root, timeoutMs: options.timeoutMs });
  if (exists.code === 0) await releaseSnapshot({ root, ref }, { timeoutMs: options.timeoutMs });
}



// Batches of one repository made or removed at the same time (verifications of several issues) race on
// git's worktree records exactly like the adds of one batch, so their registrations take turns too.
const repoQueues = new Map<string, Promise<unknown>>();

function inTurn<T>(root: string, task: () => Promise<T>): Promise<T> {
  const next = (repoQueues.get(root) ?? Promise.resolve()).catch(() => undefined).then(task);
  repoQueues.set(root, next);
  next.then(() => undefined, () => undefined).finally(() => {
    if (repoQueues.get(root) === next) repoQueues.delete(root);
  });
  return next;
}

// Runs the tasks with at most `limit` in flight; the first failure is rethrown after all started tasks settle,
// so that the caller's cleanup sees every worktree that was actually created.
async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failure === null) {
      const task = tasks[next++];
      await task().catch((error: unknown) => {
        failure ??= error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  if (failure !== null) throw failure;
}
