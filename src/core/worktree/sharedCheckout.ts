/**
 * The one checkout of a snapshot that every overlay of it is built on, kept between batches: a batch whose
 * snapshot has the same tree reuses it as it is, and one whose tree differs updates an idle checkout in place,
 * which costs what changed rather than the whole repository.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, realpath, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AgentError, ErrorReason, throwIfAborted } from '../errors.js';
import { acquireLock } from '../store/fileLock.js';
import { isAlive } from '../process/groupProcess.js';
import { batchPath, defaultBaseDir, readMarker, SHARED_DIR } from './batchMarker.js';
import { git, gitResult } from './git.js';
import type { Snapshot } from './snapshot.js';

/** A checkout of one tree, with its own `.git` that borrows the user's objects. */
export interface SharedCheckout {
  /** Folder name under the repository's `.shared` folder, recorded in the markers of batches that mount it. */
  name: string;
  dir: string;
  tree: string;
}

/** Progress of checkouts being made or updated: files of the shared checkout, or whole worktrees. */
export interface CheckoutProgress {
  phase: 'create' | 'update';
  unit: 'files' | 'worktrees';
  done: number;
  total: number;
}

/** Options of `acquireSharedCheckout`. */
export interface AcquireCheckoutOptions {
  baseDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: CheckoutProgress) => void;
  /**
   * Called under the repository's lock once a checkout is chosen, to record that a batch uses it (its
   * marker): from then on no other batch updates it in place.
   */
  claim: (checkout: SharedCheckout) => Promise<void>;
}

interface CheckoutState {
  tree: string;
  /** The hash of the repository's conversion settings it was checked out with (see `Conversion`). */
  conversion?: string;
  commit: string;
  status: 'ready' | 'building';
  pid: number;
  updatedAt: string;
}

const QUIET_DETACH = ['-c', 'advice.detachedHead=false'];
const POLL_MS = 200;
// The lock is held only to choose a checkout and claim it; checkouts are made and updated outside it.
const LOCK_TIMEOUT_MS = 60_000;

/** The folder holding the shared checkouts of the repository at `root`. */
export function sharedCheckoutsDir(root: string, baseDir?: string): string {
  return batchPath(root, SHARED_DIR, baseDir);
}

/**
 * A checkout of `snap`'s tree, claimed for one batch: an existing one with that tree, else an idle one
 * updated in place, else a new one. Waits (abortably) while another process is making the one it needs.
 * Git's work here has no time limit: on a slow disk a large checkout takes as long as it takes, with progress.
 */
export async function acquireSharedCheckout(snap: Snapshot, options: AcquireCheckoutOptions): Promise<SharedCheckout> {
  const shared = sharedCheckoutsDir(snap.root, options.baseDir);
  await mkdir(shared, { recursive: true });
  const tree = (await git(['rev-parse', `${snap.commit}^{tree}`], { cwd: snap.root, signal: options.signal })).trim();
  const conversion = await repositoryConversion(snap.root);
  // The files a checkout holds are the tree as these settings convert it: another tree, or other settings, make others.
  const holds = (s: CheckoutState) => s.tree === tree && s.conversion === conversion.hash;
  for (;;) {
    throwIfAborted(options.signal);
    const choice = await withLock(shared, async (): Promise<Choice> => {
      const states = await readStates(shared);
      const busy = await checkoutsInUse(dirname(shared));
      const ready = [...states].find(([, s]) => holds(s) && s.status === 'ready');
      if (ready) {
        const found = { name: ready[0], dir: join(shared, ready[0]), tree };
        await options.claim(found);
        return { checkout: found, mode: 'reuse' };
      }
      if ([...states].some(([, s]) => holds(s) && s.status === 'building' && isAlive(s.pid))) return 'wait';
      // An idle checkout is updated in place: the most recently used one is likely the nearest to this tree.
      // `checkout -f` rewrites only the files whose content changed, so one made with other settings is made afresh.
      const idle = idleCheckouts(states, busy);
      const name = idle[0]?.[0] ?? freeName(states);
      const updatable = idle[0]?.[1].status === 'ready' && idle[0][1].conversion === conversion.hash;
      await writeState(shared, name, { tree, conversion: conversion.hash, commit: snap.commit, status: 'building', pid: process.pid, updatedAt: new Date().toISOString() });
      return { checkout: { name, dir: join(shared, name), tree }, mode: updatable ? 'update' : 'create' };
    });
    if (choice === 'wait') {
      await sleep(POLL_MS, options.signal);
      continue;
    }
    const { checkout, mode } = choice;
    if (mode === 'reuse') return checkout;
    try {
      await (mode === 'create' ? createCheckout(snap, checkout.dir, conversion, options) : updateCheckout(snap, checkout.dir, conversion, options));
      await withLock(shared, async () => {
        await writeState(shared, checkout.name, { tree, conversion: conversion.hash, commit: snap.commit, status: 'ready', pid: process.pid, updatedAt: new Date().toISOString() });
        await options.claim(checkout);
      });
    } catch (error) {
      // Half made or half updated: nothing can trust it, so the next batch makes it afresh.
      await rm(checkout.dir, { recursive: true, force: true, maxRetries: 3 });
      await rm(statePath(shared, checkout.name), { force: true });
      throw error;
    }
    return checkout;
  }
}

/** Names of the checkouts that a live batch of this repository (folder `repoDir`) has claimed. */
export async function checkoutsInUse(repoDir: string): Promise<Set<string>> {
  const used = new Set<string>();
  const entries = await readdir(repoDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.filter((e) => e.isDirectory() && e.name !== SHARED_DIR)) {
    const marker = await readMarker(join(repoDir, entry.name));
    if (marker?.checkout && isAlive(marker.pid)) used.add(marker.checkout);
  }
  return used;
}

/**
 * Removes the checkouts that no live batch uses, except the most recently used idle one (which the next run
 * on an unchanged snapshot reuses), and any left half made by a process that died. Returns their folders.
 * With `all`, removes every idle checkout.
 */
export async function pruneSharedCheckouts(root: string, options: { baseDir?: string; all?: boolean } = {}): Promise<string[]> {
  const shared = sharedCheckoutsDir(root, options.baseDir);
  const names = await readdir(shared).catch(() => null);
  if (names === null) return [];
  const removed = await withLock(shared, async () => {
    const states = await readStates(shared);
    const busy = await checkoutsInUse(dirname(shared));
    const idle = idleCheckouts(states, busy);
    const keep = options.all ? undefined : idle.find(([, s]) => s.status === 'ready')?.[0];
    const doomed = idle.map(([name]) => name).filter((name) => name !== keep);
    // Folders without a state file were never finished by anyone.
    doomed.push(...names.filter((n) => !n.endsWith('.json') && n !== 'lock' && !n.includes('.') && !states.has(n) && !busy.has(n)));
    for (const name of doomed) {
      await rm(join(shared, name), { recursive: true, force: true, maxRetries: 3 });
      await rm(statePath(shared, name), { force: true });
    }
    return doomed.map((name) => join(shared, name));
  });
  // The folder goes once it is empty but for the lock, so that a repository used once leaves nothing behind.
  if ((await readdir(shared).catch(() => ['x'])).every((n) => n === 'lock')) await rm(shared, { recursive: true, force: true });
  return removed;
}

/**
 * Removes, for every repository under `baseDir`, the idle shared checkouts whose repository is gone (the
 * object store they borrow no longer exists, as after a temporary clone was deleted): nothing can use them
 * again. Returns their folders.
 */
export async function pruneOrphanCheckouts(baseDir = defaultBaseDir()): Promise<string[]> {
  const removed: string[] = [];
  for (const repo of await readdir(baseDir).catch(() => [])) {
    const shared = join(baseDir, repo, SHARED_DIR);
    const names = (await readdir(shared).catch(() => [])).filter((n) => !n.includes('.') && n !== 'lock');
    const orphans: string[] = [];
    for (const name of names) {
      const alternates = await readFile(join(shared, name, '.git', 'objects', 'info', 'alternates'), 'utf8').catch(() => null);
      if (alternates !== null && !existsSync(alternates.trim())) orphans.push(name);
    }
    if (orphans.length === 0) continue;
    await withLock(shared, async () => {
      const busy = await checkoutsInUse(dirname(shared));
      for (const name of orphans.filter((n) => !busy.has(n))) {
        await rm(join(shared, name), { recursive: true, force: true, maxRetries: 3 });
        await rm(statePath(shared, name), { force: true });
        removed.push(join(shared, name));
      }
    });
    if ((await readdir(shared).catch(() => ['x'])).every((n) => n === 'lock')) {
      await rm(shared, { recursive: true, force: true });
      await rmdir(dirname(shared)).catch(() => undefined);
    }
  }
  return removed;
}

async function createCheckout(snap: Snapshot, dir: string, conversion: Conversion, options: AcquireCheckoutOptions): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  await mkdir(dir, { recursive: true });
  const format = (await gitResult(['rev-parse', '--show-object-format'], { cwd: snap.root })).stdout.trim() || 'sha1';
  // No template: sample hooks and the like have no place in a checkout nothing commits in.
  await git(['init', '-q', '--template=', `--object-format=${format}`], { cwd: dir, signal: options.signal });
  // The checkout borrows the user's object store read-only instead of copying it, like `clone --shared`,
  // without copying refs either: it only ever needs the snapshot commits, which live there.
  const common = resolve(snap.root, (await git(['rev-parse', '--git-common-dir'], { cwd: snap.root })).trim());
  await writeFile(join(dir, '.git', 'objects', 'info', 'alternates'), `${await realpath(join(common, 'objects'))}\n`);
  await copyRepositoryFiles(common, dir, conversion);
  await checkout(snap, dir, 'create', options);
  // A fresh index marks the files written in its last instant "racily clean", and every later `git status`
  // would hash them again; one refresh, now that time has moved on, settles them for every overlay.
  await git(['update-index', '-q', '--refresh'], { cwd: dir, timeoutMs: Infinity, signal: options.signal }).catch(() => undefined);
}

async function updateCheckout(snap: Snapshot, dir: string, conversion: Conversion, options: AcquireCheckoutOptions): Promise<void> {
  await copyRepositoryFiles(resolve(snap.root, (await git(['rev-parse', '--git-common-dir'], { cwd: snap.root })).trim()), dir, conversion);
  await checkout(snap, dir, 'update', options);
}

// `checkout -f` from the tree the folder holds writes only the files that differ, and restores any that were
// changed behind git's back.
async function checkout(snap: Snapshot, dir: string, phase: CheckoutProgress['phase'], options: AcquireCheckoutOptions): Promise<void> {
  let shown = -1;
  const onStderr = (text: string) => {
    const matches = [...text.matchAll(/Updating files:\s+(\d+)% \((\d+)\/(\d+)\)/g)];
    const last = matches.at(-1);
    if (!last || !options.onProgress) return;
    const percent = Number(last[1]);
    // About ten events per checkout, whatever its size.
    if (Math.floor(percent / 10) === shown && percent !== 100) return;
    shown = Math.floor(percent / 10);
    options.onProgress({ phase, unit: 'files', done: Number(last[2]), total: Number(last[3]) });
  };
  await git([...QUIET_DETACH, 'checkout', '-q', '-f', '--progress', '--no-recurse-submodules', '--detach', snap.commit],
    { cwd: dir, timeoutMs: Infinity, signal: options.signal, onStderr });
}

// The file of the checkout's config that holds what it takes over from the repository's own.
const CONVERSION_CONFIG = 'config.repository';
// What turns the repository's stored files into its working files and back: its own filter drivers (Git LFS
// installed with --local or --worktree), line endings, and an attributes file of its own. Not Git LFS's own
// settings: it finds the user's objects through the checkout's alternates, and its URLs and transfer programs
// have no place in a checkout that fetches nothing.
const CONVERSION_KEYS = /^(filter\..+\.(clean|smudge|process|required)|core\.(autocrlf|eol|safecrlf|checkroundtripencoding|attributesfile))$/;

/** The repository's own settings that decide its working files, and their hash. */
interface Conversion {
  /** Entries of the repository's config (its local and worktree scopes) among CONVERSION_KEYS, in order. */
  config: [string, string][];
  /** Its `info/attributes`, if any. */
  attributes: string | null;
  hash: string;
}

async function repositoryConversion(root: string): Promise<Conversion> {
  const common = resolve(root, (await git(['rev-parse', '--git-common-dir'], { cwd: root })).trim());
  const listed = await gitResult(['config', '--includes', '--show-scope', '-z', '--list'], { cwd: root });
  const tokens = listed.code === 0 ? listed.stdout.split('\0') : [];
  const config: [string, string][] = [];
  // Pairs of a scope and an entry, `key\nvalue`, or a bare `key` (true, for git).
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const [scope, entry] = [tokens[i], tokens[i + 1]];
    const cut = entry.indexOf('\n');
    const [key, value] = cut < 0 ? [entry, 'true'] : [entry.slice(0, cut), entry.slice(cut + 1)];
    if ((scope === 'local' || scope === 'worktree') && CONVERSION_KEYS.test(key)) config.push([key, value]);
  }
  const attributes = await readFile(join(common, 'info', 'attributes'), 'utf8').catch(() => null);
  const hash = createHash('sha256').update(JSON.stringify([config, attributes])).digest('hex');
  return { config, attributes, hash };
}

// What the user's repository ignores through .git/info/exclude, the overlays must ignore too: a patch must not
// gain files that `git status` in the user's tree would never show. And the checkout, whose `.git` is its own,
// must convert files as the repository's settings say, as a worktree (which shares them) does: without a driver
// configured only there, it would hold an LFS pointer where the user's tree holds the file.
async function copyRepositoryFiles(common: string, dir: string, conversion: Conversion): Promise<void> {
  const info = join(dir, '.git', 'info');
  await mkdir(info, { recursive: true });
  await copyFile(join(common, 'info', 'exclude'), join(info, 'exclude')).catch(() => writeFile(join(info, 'exclude'), ''));
  await (conversion.attributes === null ? rm(join(info, 'attributes'), { force: true }) : writeFile(join(info, 'attributes'), conversion.attributes));
  const file = join(dir, '.git', CONVERSION_CONFIG);
  // An object the user's store lacks (a file fetched without its LFS content) stays a pointer, as in the user's tree.
  await writeFile(file, '[lfs]\n\tskipdownloaderrors = true\n');
  // Set on every update too: a checkout made by an earlier version has no such include yet.
  await git(['config', 'include.path', CONVERSION_CONFIG], { cwd: dir });
  for (const [key, value] of conversion.config) await git(['config', '--file', file, '--add', key, value], { cwd: dir });
}

type Choice = 'wait' | { checkout: SharedCheckout; mode: 'reuse' | 'update' | 'create' };

/** Checkouts no live batch uses and no live process is making, most recently used first. */
function idleCheckouts(states: Map<string, CheckoutState>, busy: Set<string>): [string, CheckoutState][] {
  return [...states].filter(([name, s]) => !busy.has(name) && !(s.status === 'building' && isAlive(s.pid)))
    .sort(([, a], [, b]) => b.updatedAt.localeCompare(a.updatedAt));
}

async function withLock<T>(shared: string, task: () => Promise<T>): Promise<T> {
  const release = await acquireLock(join(shared, 'lock'), { timeoutMs: LOCK_TIMEOUT_MS, staleMs: Number.POSITIVE_INFINITY });
  try {
    return await task();
  } finally {
    await release();
  }
}

async function readStates(shared: string): Promise<Map<string, CheckoutState>> {
  const states = new Map<string, CheckoutState>();
  for (const file of (await readdir(shared)).filter((f) => f.endsWith('.json'))) {
    const state = await readFile(join(shared, file), 'utf8').then((t) => JSON.parse(t) as CheckoutState, () => null);
    if (state && typeof state.tree === 'string') states.set(file.slice(0, -'.json'.length), state);
  }
  return states;
}

async function writeState(shared: string, name: string, state: CheckoutState): Promise<void> {
  const temp = `${statePath(shared, name)}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(state, null, 2));
  await rename(temp, statePath(shared, name));
}

function statePath(shared: string, name: string): string {
  return join(shared, `${name}.json`);
}

function freeName(states: Map<string, CheckoutState>): string {
  for (let k = 0; ; k++) if (!states.has(`c${k}`)) return `c${k}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolveSleep(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(new AgentError(ErrorReason.Cancelled, 'cancelled: waiting for a shared checkout')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
