import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordChecksum } from '../../../src/core/store/checksum.js';
import { LOCK_FILE, PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import { tempDir } from '../../helpers/tempRepo.js';
import { syntheticTask } from './syntheticTask.js';
import { matchesSynthetic, runWriter, seedOf, type WriterRun } from './writerProcess.js';

const MAX_STEPS = 30;

function segment(dir: string): string {
  const files = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
  expect(files).toHaveLength(1);
  return path.join(dir, files[0]);
}

describe('crash safety', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('keeps every reported record intact across 100 SIGKILLs of writers at random moments', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const storeDir = path.join(dir, 'store');
    const runs: WriterRun[] = [];
    let staleLocks = 0;
    // Four writers at a time share the store, so kills also land while another process holds or waits for the
    // lock, and killed lock holders leave stale locks behind for the next round to recover.
    for (let round = 0; round < 25; round += 1) {
      runs.push(...await Promise.all([0, 1, 2, 3].map((w) => runWriter({
        dir: storeDir, firstSeed: (round * 4 + w) * 1000, count: 1000, fsync: w % 2 === 0, maxSteps: MAX_STEPS,
        killAfterMs: 5 + Math.floor(Math.random() * 36),
      }))));
      if (existsSync(path.join(storeDir, LOCK_FILE))) staleLocks += 1;
    }
    expect(runs).toHaveLength(100);
    for (const run of runs) expect([run.exit.signal, run.stderr]).toEqual(['SIGKILL', '']);
    const { tasks, decisions, torn, skipped } = await PreferenceStore.open(storeDir).readAll();
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const reported = runs.flatMap((r) => [...r.reported]);
    expect(reported.length).toBeGreaterThan(20);
    for (const [seed, id] of reported) {
      expect(byId.get(id), `reported record ${id} is missing`).toBeDefined();
      expect(seedOf(byId.get(id)!)).toBe(seed);
    }
    // Nothing corrupt is accepted: every accepted record is byte-for-byte the task its writer generated.
    expect(tasks.filter((t) => !matchesSynthetic(t, MAX_STEPS)).map((t) => t.id)).toEqual([]);
    expect(byId.size).toBe(tasks.length);
    expect(decisions).toEqual([]);
    expect(torn).toBeLessThanOrEqual(runs.length);
    expect(skipped.filter((s) => s.reason !== 'torn_tail' && s.reason !== 'truncated')).toEqual([]);
    expect(skipped.filter((s) => s.reason === 'torn_tail').length).toBeLessThanOrEqual(1);
    console.info(`crash test: ${reported.length} records reported, ${tasks.length} accepted, ${torn} torn lines skipped, ${staleLocks} stale locks left by killed writers`);

    // Appending after the crashes works and is not glued onto a torn tail.
    const store = PreferenceStore.open(storeDir, { env: {} });
    const id = await store.appendTask(syntheticTask(7, { steps: 2 }));
    const after = await store.readAll();
    expect(after.tasks.at(-1)?.id).toBe(id);
    expect(after.tasks).toHaveLength(tasks.length + 1);
    expect(after.torn).toBe(torn);
  }, 120_000);

  it('skips a torn tail, reports it, and closes it with a newline before the next append', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = PreferenceStore.open(dir, { env: {} });
    const first = await store.appendTask(syntheticTask(1, { steps: 2 }));
    const file = segment(dir);
    const whole = readFileSync(file, 'utf8');
    appendFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
    const torn = await store.readAll();
    expect([torn.tasks.map((t) => t.id), torn.torn, torn.skipped.map((s) => [s.line, s.reason])]).toEqual([[first], 1, [[2, 'torn_tail']]]);

    const second = await store.appendTask(syntheticTask(2, { steps: 2 }));
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(whole.slice(0, Math.floor(whole.length / 2)));
    expect(lines[3]).toBe('');
    const after = await store.readAll();
    expect([after.tasks.map((t) => t.id), after.torn, after.skipped.map((s) => [s.line, s.reason])]).toEqual([[first, second], 1, [[2, 'truncated']]]);
  });

  it('rejects a line altered in the middle even when it is still valid JSON, and accepts the others', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = PreferenceStore.open(dir, { env: {} });
    const ids = [];
    for (const seed of [1, 2, 3]) ids.push(await store.appendTask(syntheticTask(seed, { steps: 1 })));
    const decision = await store.appendDecision({ taskId: ids[0], candidateId: 'r0', decision: 'applied' });
    const file = segment(dir);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1].replace('synthetic task seed=2', 'synthetic task seed=9');
    lines[3] = lines[3].replace('"applied"', '"rejected"');
    writeFileSync(file, lines.join('\n'));
    const result = await store.readAll();
    expect(result.tasks.map((t) => t.id)).toEqual([ids[0], ids[2]]);
    expect(result.decisions).toEqual([]);
    expect(result.skipped.map((s) => [s.line, s.reason])).toEqual([[2, 'checksum_mismatch'], [4, 'checksum_mismatch']]);
    expect(result.torn).toBe(0);
    expect(decision).toMatch(/^decision-/);
  });

  it('skips garbage and other major versions, accepts newer minor versions, and never accepts a record without a checksum', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = PreferenceStore.open(dir, { env: {} });
    await store.appendTask(syntheticTask(1, { steps: 1 }));
    const file = segment(dir);
    const base = { kind: 'decision', id: 'd1', timestamp: '2026-01-01T00:00:00.000Z', taskId: 't', candidateId: 'r0', decision: 'applied' };
    const signed = (record: Record<string, unknown>) => JSON.stringify({ ...record, checksum: recordChecksum(record) });
    appendFileSync(file, [
      '{"format":"entropo-store-1.0","kind":"task","id":"x", garbage',
      signed({ ...base, format: 'entropo-store-2.0' }),
      signed({ ...base, format: 'entropo-store-1.3', id: 'd2', addedLater: true }),
      JSON.stringify({ ...base, format: 'entropo-store-1.0', id: 'd3' }),
      signed({ ...base, format: 'entropo-store-1.0', id: 'd4', decision: 'loved' }),
      '',
    ].join('\n'));
    const result = await store.readAll();
    expect(result.tasks).toHaveLength(1);
    expect(result.decisions.map((d) => d.id)).toEqual(['d2']);
    expect(result.skipped.map((s) => [s.line, s.reason])).toEqual([[2, 'truncated'], [3, 'unsupported_format'], [5, 'checksum_mismatch'], [6, 'invalid_record']]);
    expect(result.skipped[0].excerpt).toBe('{"format":"entropo-store-1.0","kind":"task","id":"x", garbage');
    expect(result.torn).toBe(1);
  });
});
