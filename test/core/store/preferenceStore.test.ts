import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/core/agent/config.js';
import { AgentError } from '../../../src/core/errors.js';
import type { BatchResult } from '../../../src/core/sampling/batchTypes.js';
import { exportPreferences } from '../../../src/core/store/exportPreferences.js';
import { PreferenceStore, segmentName } from '../../../src/core/store/preferenceStore.js';
import { recordBatch } from '../../../src/core/store/recordBatch.js';
import { defaultStoreDir } from '../../../src/core/store/storeLocation.js';
import { git, tempDir } from '../../helpers/tempRepo.js';
import { syntheticTask } from './syntheticTask.js';

describe('PreferenceStore', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  function dir(): string {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    return path.join(temp.dir, 'nested', 'store');
  }

  it('writes nothing at all, not even its folder, when recording is off', async () => {
    const storeDir = dir();
    const store = PreferenceStore.open(storeDir, { enabled: false });
    const taskId = await store.appendTask(syntheticTask(1, { steps: 1 }));
    await store.appendDecision({ taskId, candidateId: 'r0', decision: 'applied' });
    const batch = { batchId: 'b', snapshot: { commit: 'c'.repeat(40), baseHead: null, root: storeDir, ref: 'refs/x' }, candidates: [],
      diversity: { distinct: 0, meanPairwiseSimilarity: 1, groups: [] }, usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 }, wallMs: 0, stopped: false,
      isolation: { kind: 'worktree' as const, reason: 'test' } } satisfies BatchResult;
    expect(await recordBatch(store, batch, { issue: 'x', config: resolveConfig() })).toMatch(/^task-/);
    expect(taskId).toMatch(/^task-\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(existsSync(path.dirname(storeDir))).toBe(false);
    expect(await store.readAll()).toEqual({ tasks: [], decisions: [], torn: 0, skipped: [] });
  });

  it('appends one line per record to the month segment, every record with format, id, timestamp and checksum', async () => {
    const storeDir = dir();
    const store = PreferenceStore.open(storeDir, { env: {} });
    const taskId = await store.appendTask(syntheticTask(1, { steps: 2 }));
    const decisionId = await store.appendDecision({ taskId, candidateId: 'r1', decision: 'rejected' });
    expect(readdirSync(storeDir)).toEqual([segmentName(new Date())]);
    expect(segmentName(new Date('2026-03-31T23:59:59Z'))).toBe('records-2026-03.jsonl');
    const lines = readFileSync(path.join(storeDir, segmentName(new Date())), 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    const [task, decision] = lines.slice(0, 2).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(task).toMatchObject({ format: 'entropo-store-1.0', kind: 'task', id: taskId });
    expect(decision).toEqual({ format: 'entropo-store-1.0', kind: 'decision', id: decisionId, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      checksum: expect.stringMatching(/^[0-9a-f]{16}$/), taskId, candidateId: 'r1', decision: 'rejected' });
    expect(Date.parse(String(task.timestamp))).toBeLessThanOrEqual(Date.parse(String(decision.timestamp)));
  });

  it('refuses malformed input before writing anything', async () => {
    const storeDir = dir();
    const store = PreferenceStore.open(storeDir);
    const task = syntheticTask(1, { steps: 1 });
    await expect(store.appendTask({ ...task, candidates: [task.candidates[0], task.candidates[0]] })).rejects.toThrow(/distinct, got r0, r0/);
    await expect(store.appendDecision({ taskId: 't', candidateId: 'r0', decision: 'loved' as 'applied' })).rejects.toBeInstanceOf(AgentError);
    await expect(store.appendDecision({ taskId: '', candidateId: 'r0', decision: 'applied' })).rejects.toThrow(/task id/);
    expect(existsSync(storeDir)).toBe(false);
  });

  it('deletes only its own files, and its folder when nothing else is left', async () => {
    const storeDir = dir();
    const store = PreferenceStore.open(storeDir, { env: {} });
    await store.appendTask(syntheticTask(1, { steps: 1 }));
    writeFileSync(path.join(storeDir, 'records-2020-01.jsonl'), '');
    writeFileSync(path.join(storeDir, 'my-notes.txt'), 'keep me');
    expect(await store.deleteAll()).toEqual({ files: 2 });
    expect(readdirSync(storeDir)).toEqual(['my-notes.txt']);
    expect((await store.readAll()).tasks).toEqual([]);
    await store.appendTask(syntheticTask(2, { steps: 1 }));
    writeFileSync(path.join(storeDir, 'store.lock.123.abcdef.tmp'), '{}');
    mkdirSync(path.join(storeDir, 'sub'));
    expect((await store.deleteAll()).files).toBe(2);
    expect(readdirSync(storeDir).sort()).toEqual(['my-notes.txt', 'sub']);
    const empty = PreferenceStore.open(dir(), { env: {} });
    await empty.appendTask(syntheticTask(3, { steps: 1 }));
    await empty.deleteAll();
    expect(existsSync(empty.dir)).toBe(false);
    expect(await empty.deleteAll()).toEqual({ files: 0 });
  });

  it('replaces an export file whole and leaves nothing behind when the export fails', async () => {
    const storeDir = dir();
    const store = PreferenceStore.open(storeDir, { env: {} });
    const taskId = await store.appendTask(syntheticTask(1, { steps: 1 }));
    await store.appendDecision({ taskId, candidateId: 'r0', decision: 'applied' });
    const out = path.join(path.dirname(storeDir), 'exports', 'kto.jsonl');
    expect(await exportPreferences(store, { format: 'trl-kto', out })).toMatchObject({ lines: 1, tasks: 1, out });
    expect(readFileSync(out, 'utf8').split('\n')).toHaveLength(2);
    await expect(exportPreferences(store, { format: 'csv' as 'trl-kto', out })).rejects.toThrow(/Unknown export format "csv"/);
    mkdirSync(path.join(path.dirname(out), 'is-a-folder'));
    await expect(exportPreferences(store, { format: 'trl-kto', out: path.join(path.dirname(out), 'is-a-folder') })).rejects.toThrow(/Cannot write the export/);
    expect(readdirSync(path.dirname(out)).sort()).toEqual(['is-a-folder', 'kto.jsonl']);
  });

  it('places the default store by the repository top level, whichever folder of it is given', () => {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    git(temp.dir, 'init', '-q');
    mkdirSync(path.join(temp.dir, 'a', 'b'), { recursive: true });
    const root = defaultStoreDir(temp.dir, '/home/u');
    expect(root).toMatch(/^\/home\/u\/\.local\/state\/entropo\/store\/[0-9a-f]{16}$/);
    expect(defaultStoreDir(path.join(temp.dir, 'a', 'b'), '/home/u')).toBe(root);
    expect(defaultStoreDir(path.join(temp.dir, 'a', 'not-yet-made'), '/home/u')).toBe(root);
    expect(defaultStoreDir(path.dirname(temp.dir), '/home/u')).not.toBe(root);
  });
});
