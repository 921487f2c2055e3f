import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { boundTask } from '../../../src/core/store/boundTask.js';
import { EXPORT_FORMATS } from '../../../src/core/store/exportLines.js';
import { exportPreferences } from '../../../src/core/store/exportPreferences.js';
import { PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import { tempDir } from '../../helpers/tempRepo.js';
import { exportValidator, readJsonLines } from './exportSchemas.js';
import { syntheticTask } from './syntheticTask.js';

const validate = exportValidator();

describe('the store bounds what it writes', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('clips a 2 MB observation and a 3 MB reply with a marker, lists the clips, and still exports', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const task = syntheticTask(7, { candidates: 2, steps: 3 });
    const [r0] = task.candidates;
    r0.messages[3] = { role: 'user', content: `Execution output of [execute_bash]:\n${'o'.repeat(2_000_000)}\nEND` };
    r0.messages[4] = { role: 'assistant', content: `I think${' r'.repeat(1_500_000)}\nEND` };
    const store = PreferenceStore.open(dir, { fsync: false });
    const taskId = await store.appendTask(task);
    await store.appendDecision({ taskId, candidateId: 'r0', decision: 'applied' });
    await store.appendDecision({ taskId, candidateId: 'r1', decision: 'rejected' });

    const segment = readdirSync(dir).find((n) => n.startsWith('records-'))!;
    const taskLine = readFileSync(path.join(dir, segment), 'utf8').split('\n')[0];
    expect(Buffer.byteLength(taskLine)).toBeLessThan(400 * 1024);
    const { tasks, skipped } = await store.readAll();
    expect(skipped).toEqual([]);
    const stored = tasks[0].candidates[0].messages;
    expect(stored[3].content).toHaveLength(64 * 1024);
    expect(stored[3].content).toMatch(/^Execution output of \[execute_bash\]:\no+\n\[\.\.\. \d+ of 2000040 characters clipped by the preference store; the model saw them all \.\.\.\]\no+\nEND$/);
    expect(stored[4].content.endsWith('\nEND')).toBe(true);
    expect(tasks[0].clips).toEqual([
      { candidateId: 'r0', message: 3, field: 'content', originalChars: 2_000_040, keptChars: 64 * 1024 },
      { candidateId: 'r0', message: 4, field: 'content', originalChars: 3_000_011, keptChars: 64 * 1024 },
    ]);
    // The other candidate's messages are stored exactly as they were.
    expect(tasks[0].candidates[1].messages).toEqual(task.candidates[1].messages);

    for (const format of EXPORT_FORMATS) {
      const out = path.join(dir, `${format}.jsonl`);
      const summary = await exportPreferences(store, { format, out });
      expect(summary.lines).toBeGreaterThan(0);
      for (const line of readJsonLines(out)) expect(validate(format, line)).toEqual([]);
    }
  });

  it('keeps clipped tool-call arguments valid JSON, each long value clipped with the marker', () => {
    const task = syntheticTask(9, { candidates: 1, steps: 1 });
    const args = JSON.stringify({ command: 'create', path: 'big.py', file_text: 'x = 1\n'.repeat(200_000) });
    task.candidates[0].messages[2] = { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'file_editor', arguments: args }] };
    const bounded = boundTask(task);
    const kept = bounded.candidates[0].messages[2].toolCalls![0].arguments;
    expect(kept.length).toBeLessThanOrEqual(64 * 1024);
    const parsed = JSON.parse(kept) as { command: string; path: string; file_text: string };
    expect(parsed).toMatchObject({ command: 'create', path: 'big.py' });
    expect(parsed.file_text).toMatch(/^x = 1\n[\s\S]*\[\.\.\. \d+ of 1200000 characters clipped by the preference store; the model saw them all \.\.\.\][\s\S]*x = 1\n$/);
    expect(bounded.clips).toEqual([{ candidateId: 'r0', message: 2, field: 'arguments', originalChars: args.length, keptChars: 64 * 1024 }]);
    expect(task.candidates[0].messages[2].toolCalls![0].arguments).toBe(args);
  });

  it('caps a record: over the cap the per-message limit halves until it fits, and a record that cannot fit is refused', () => {
    const task = syntheticTask(8, { candidates: 4, steps: 10 });
    for (const c of task.candidates) for (const m of c.messages) if (m.role === 'user') m.content += 'z'.repeat(50_000);
    const bounded = boundTask(task, { maxRecordBytes: 512 * 1024 });
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThanOrEqual(512 * 1024);
    expect(new Set(bounded.clips!.map((c) => c.keptChars)).size).toBe(1);
    expect(bounded.clips![0].keptChars).toBeLessThan(50_000);
    const hugePatch = { ...task, candidates: task.candidates.map((c) => ({ ...c, patch: 'p'.repeat(300 * 1024) })) };
    expect(() => boundTask(hugePatch, { maxRecordBytes: 512 * 1024 })).toThrow(/over the store's cap of 524288 bytes/);
  });
});
