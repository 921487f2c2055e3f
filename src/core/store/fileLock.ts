/**
 * An advisory lock between processes, made of a lock file that only one process can create (hard-linked into
 * place, which fails like O_EXCL if it exists), because Node has no flock. The file holds the owner's pid,
 * host and a random nonce. Waiters retry with jittered exponential backoff (1 to 50 ms). A lock whose owner
 * is dead (same host, pid gone), or that is older than `staleMs` (no write holds it that long), is broken;
 * breaking happens under a second short-lived `.break` lock and only if the lock still holds the nonce seen
 * as stale, so two processes that both saw a stale lock cannot remove each other's fresh one.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { isAlive } from '../process/groupProcess.js';

/** Options of `acquireLock`. */
export interface LockOptions {
  /** Give up after this long; default 30 s. */
  timeoutMs?: number;
  /** A lock older than this is broken whoever holds it; default 60 s (a record takes milliseconds to write). */
  staleMs?: number;
}

/** Releases a held lock; safe to call once. */
export type ReleaseLock = () => Promise<void>;

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

// Nonces of locks this process holds: a lock file naming our own pid but not one of these nonces was left
// by an earlier process that had the same pid (pid reuse, e.g. in a container), so it is stale.
const heldNonces = new Set<string>();

// A `.break` lock lives for microseconds; one this old belongs to a process that died while breaking.
const BREAK_STALE_MS = 5_000;

/** Takes the lock at `lockPath`, waiting with jittered backoff; throws AgentError(Io) on timeout. */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<ReleaseLock> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const owner: LockOwner = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex') };
  let delay = 1;
  for (;;) {
    if (await tryCreate(lockPath, owner)) {
      heldNonces.add(owner.nonce);
      return () => release(lockPath, owner.nonce);
    }
    const current = await readOwner(lockPath);
    const stale = current !== 'gone' && (await isStale(lockPath, current, staleMs));
    if (stale) await breakLock(lockPath, current);
    if (Date.now() > deadline) {
      const who = current && current !== 'gone' ? ` (held by pid ${current.pid} on ${current.host})` : '';
      throw new AgentError(ErrorReason.Io, `Timed out after ${timeoutMs} ms waiting for the lock ${lockPath}${who}.`);
    }
    // Retry at once after a break or a release; back off while a live owner holds it.
    if (!stale && current !== 'gone') {
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 50);
    }
  }
}

// The owner is written to a private file first and hard-linked into place: link(2) fails if the lock exists,
// like O_EXCL, and the lock never exists without its content (a writer killed between an O_EXCL create and
// its write would leave an empty lock that nobody could judge). Where hard links are not supported, fall
// back to O_EXCL and write.
async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  const temp = `${lockPath}.${owner.pid}.${owner.nonce}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(owner), { flag: 'wx' });
    try {
      await link(temp, lockPath);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      await writeFile(lockPath, JSON.stringify(owner), { flag: 'wx' });
      return true;
    } finally {
      await unlinkQuietly(temp);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // The folder may have been removed by a concurrent delete; make it again and retry.
    if (code === 'ENOENT') {
      await mkdir(dirname(lockPath), { recursive: true });
      return false;
    }
    throw new AgentError(ErrorReason.Io, `Cannot create the lock ${lockPath}: ${(error as Error).message}`, { cause: error });
  }
}

/** The lock's owner; null if unreadable (the O_EXCL fallback not yet filled, or no permission); 'gone' without a lock. */
async function readOwner(lockPath: string): Promise<LockOwner | null | 'gone'> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.nonce === 'string') {
      return parsed as LockOwner;
    }
  } catch {
    // Empty or half-written: the creator is between open and write, or died there (age decides).
  }
  return null;
}

async function isStale(lockPath: string, owner: LockOwner | null, staleMs: number): Promise<boolean> {
  if (owner && owner.host === hostname()) {
    if (owner.pid === process.pid) return !heldNonces.has(owner.nonce);
    if (!isAlive(owner.pid)) return true;
  }
  try {
    return Date.now() - (await stat(lockPath)).mtimeMs > staleMs;
  } catch {
    return false;
  }
}


/** Removes a stale lock if it is still the one judged stale (same nonce, or still unwritten). */
async function breakLock(lockPath: string, seen: LockOwner | null): Promise<void> {
  const breakPath = `${lockPath}.break`;
  const breaker: LockOwner = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex') };
  if (!(await tryCreate(breakPath, breaker))) {
    try {
      if (Date.now() - (await stat(breakPath)).mtimeMs > BREAK_STALE_MS) await unlink(breakPath);
    } catch {
      // Someone else finished breaking; the caller retries.
    }
    await sleep(2);
    return;
  }
  try {
    const now = await readOwner(lockPath);
    if (now !== 'gone' && (now?.nonce ?? null) === (seen?.nonce ?? null)) await unlinkQuietly(lockPath);
    await removeDeadTemps(lockPath);
  } finally {
    await unlinkQuietly(breakPath);
  }
}

// A process killed between writing its temp owner file and removing it leaves the file behind; the
// stale lock it may also have left is the moment to sweep them.
async function removeDeadTemps(lockPath: string): Promise<void> {
  const prefix = `${basename(lockPath)}.`;
  for (const name of await readdir(dirname(lockPath)).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length))?.[1]);
    if (name.startsWith(prefix) && Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) await unlinkQuietly(join(dirname(lockPath), name));
  }
}

async function release(lockPath: string, nonce: string): Promise<void> {
  heldNonces.delete(nonce);
  const now = await readOwner(lockPath);
  // A lock broken as stale and taken by another process is theirs now; leave it.
  if (now && now !== 'gone' && now.nonce === nonce) await unlinkQuietly(lockPath);
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
