import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/core/errors.js';
import { acquireLock } from '../../../src/core/store/fileLock.js';
import { LOCK_FILE, PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import { tempDir } from '../../helpers/tempRepo.js';
import { syntheticTask } from './syntheticTask.js';
import { matchesSynthetic, runWriter } from './writerProcess.js';

const MAX_STEPS = 4;

describe('concurrent writers', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('two processes appending 500 records each leave 1000 intact, separate lines', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    // Records of 15-60 KB: far above PIPE_BUF and a page, where unlocked appends could interleave.
    const runs = await Promise.all([0, 1].map((w) => runWriter({ dir, firstSeed: w * 10_000, count: 500, fsync: true, maxSteps: MAX_STEPS })));
    for (const run of runs) {
      expect([run.exit.code, run.stderr]).toEqual([0, '']);
      expect(run.reported.size).toBe(500);
    }
    const { tasks, torn, skipped } = await PreferenceStore.open(dir).readAll();
    expect([tasks.length, torn, skipped]).toEqual([1000, 0, []]);
    expect(tasks.filter((t) => !matchesSynthetic(t, MAX_STEPS)).map((t) => t.id)).toEqual([]);
    const ids = new Set(tasks.map((t) => t.id));
    for (const run of runs) for (const id of run.reported.values()) expect(ids.has(id)).toBe(true);
    const files = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
    const lines = files.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l !== ''));
    expect(lines).toHaveLength(1000);
    // Each writer's own records stay in its order, and the two writers really did take turns.
    const order = tasks.map((t) => Number(/seed=(\d+)/.exec(t.issue)![1]));
    for (const w of [0, 1]) {
      const mine = order.filter((seed) => Math.floor(seed / 10_000) === w);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    const switches = order.slice(1).filter((seed, i) => Math.floor(seed / 10_000) !== Math.floor(order[i] / 10_000)).length;
    expect(switches).toBeGreaterThan(10);
    expect(readdirSync(dir).filter((n) => n.startsWith(LOCK_FILE))).toEqual([]);
  }, 120_000);

  it('serializes appends of one process without contending for its own lock', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = PreferenceStore.open(dir, { env: {}, fsync: false });
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendTask(syntheticTask(i, { steps: 1, candidates: 2 }))));
    const { tasks } = await store.readAll();
    expect(tasks.map((t) => t.id)).toEqual(ids);
  });
});

describe('the lock file', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  function lockIn(): string {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    return path.join(dir, LOCK_FILE);
  }

  it('breaks a lock left by a dead process, and by an earlier process that had our pid', async () => {
    const lock = lockIn();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(lock, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), nonce: 'dead' }));
    const started = Date.now();
    const release = await acquireLock(lock, { timeoutMs: 2000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await release();
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'not-ours' }));
    await (await acquireLock(lock, { timeoutMs: 2000 }))();
    expect(readdirSync(path.dirname(lock))).toEqual([]);
  });

  it('waits for a live holder, times out with a clear error, and breaks a lock older than staleMs', async () => {
    const lock = lockIn();
    const release = await acquireLock(lock);
    const error = await acquireLock(lock, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).message).toMatch(new RegExp(`Timed out after 150 ms waiting for the lock .*held by pid ${process.pid}`));
    await release();
    writeFileSync(lock, JSON.stringify({ pid: 1, host: 'another-machine', nonce: 'remote' }));
    await expect(acquireLock(lock, { timeoutMs: 150 })).rejects.toThrow(/held by pid 1 on another-machine/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    await (await acquireLock(lock, { timeoutMs: 2000, staleMs: 60_000 }))();
    expect(readdirSync(path.dirname(lock))).toEqual([]);
  });

  it('hands the lock from holder to waiter when the holder releases', async () => {
    const lock = lockIn();
    const release = await acquireLock(lock);
    const events: string[] = [];
    const waiter = acquireLock(lock, { timeoutMs: 5000 }).then((r) => { events.push('acquired'); return r; });
    await new Promise((resolve) => setTimeout(resolve, 50));
    events.push('releasing');
    await release();
    await (await waiter)();
    expect(events).toEqual(['releasing', 'acquired']);
  });
});
