/**
 * What each user action records and what the export makes of it (store/decisions.ts): trying another
 * candidate is a comparison, not a rejection; only an explicit Reject rejects; cancelled and failed runs
 * never become training data.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/core/errors.js';
import { exportPreferences } from '../../../src/core/store/exportPreferences.js';
import { PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import type { DecisionInput, StoredCandidate, TaskStatus } from '../../../src/core/store/storeTypes.js';
import type { ExitReason } from '../../../src/core/types.js';
import { tempDir } from '../../helpers/tempRepo.js';
import { syntheticTask } from './syntheticTask.js';

type Action = Omit<DecisionInput, 'taskId'>;

describe('decision semantics', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  /** A store with one four-candidate task and `actions` recorded on it; the exported DPO pairs and KTO labels. */
  async function decide(actions: Action[], status?: TaskStatus, exits: Record<string, ExitReason | Partial<StoredCandidate>> = {}) {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    const store = PreferenceStore.open(path.join(temp.dir, 'store'), { env: {} });
    const task = syntheticTask(7, { candidates: 4, steps: 1 });
    const candidates = task.candidates.map((c) => {
      const change = exits[c.id];
      return { ...c, ...(typeof change === 'string' ? { exitReason: change } : change ?? {}) };
    });
    const taskId = await store.appendTask({ ...task, candidates, ...(status ? { status } : {}) });
    for (const action of actions) await store.appendDecision({ taskId, ...action });
    const dpo = path.join(temp.dir, 'dpo.jsonl');
    await exportPreferences(store, { format: 'entropo-dpo', out: dpo });
    const kto = path.join(temp.dir, 'kto.jsonl');
    await exportPreferences(store, { format: 'entropo-kto', out: kto });
    // Nothing to export leaves no file.
    const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { label?: boolean; meta: { candidate_ids?: string[]; candidate_id?: string } });
    const pairs = read(dpo).map((l) => l.meta.candidate_ids!.join('>'));
    const labels = Object.fromEntries(read(kto).map((l) => [l.meta.candidate_id!, l.label]));
    return { pairs, labels, stats: await store.stats() };
  }

  it('apply and reject: the applied one is chosen over the rejected one', async () => {
    const { pairs, labels } = await decide([{ candidateId: 'r0', decision: 'applied' }, { candidateId: 'r1', decision: 'rejected' }]);
    expect(pairs).toEqual(['r0>r1']);
    expect(labels).toEqual({ r0: true, r1: false });
  });

  it('replacing one candidate by another is no rejection of the first', async () => {
    const { pairs, labels, stats } = await decide([
      { candidateId: 'r1', decision: 'applied' },
      { candidateId: 'r1', decision: 'replaced', by: 'r0' }, { candidateId: 'r0', decision: 'applied' },
      { candidateId: 'r2', decision: 'rejected' },
    ]);
    expect(pairs).toEqual(['r0>r2']);
    expect(labels).toEqual({ r0: true, r2: false });
    expect(stats).toMatchObject({ decisions: { applied: 2, replaced: 1, rejected: 1 }, accepted: 1, rejected: 1 });
  });

  it('undo and a revert outside the panel take the candidate out of the data; an explicit reject after them counts', async () => {
    const undone = await decide([{ candidateId: 'r0', decision: 'applied' }, { candidateId: 'r0', decision: 'undone' }, { candidateId: 'r1', decision: 'rejected' }]);
    expect(undone.pairs).toEqual([]);
    expect(undone.labels).toEqual({ r1: false });
    const reverted = await decide([{ candidateId: 'r0', decision: 'applied' }, { candidateId: 'r0', decision: 'reverted' }]);
    expect(reverted.labels).toEqual({});
    const rejected = await decide([{ candidateId: 'r0', decision: 'applied' }, { candidateId: 'r1', decision: 'applied' }, { candidateId: 'r0', decision: 'rejected' }]);
    expect(rejected.pairs).toEqual(['r1>r0']);
  });

  it('two candidates with the same patch (up to whitespace) make no pair, though each keeps its own label', async () => {
    const patch = 'diff --git a/f.py b/f.py\n--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n';
    const { pairs, labels } = await decide(
      [{ candidateId: 'r0', decision: 'applied' }, { candidateId: 'r1', decision: 'rejected' }, { candidateId: 'r2', decision: 'rejected' }],
      undefined, { r0: { patch }, r1: { patch: patch.replace('+x = 2', '+x  =  2 ') } },
    );
    expect(pairs).toEqual(['r0>r2']);
    expect(labels).toEqual({ r0: true, r1: false, r2: false });
  });

  it('a candidate kept after a commit is accepted', async () => {
    const { pairs } = await decide([{ candidateId: 'r3', decision: 'applied' }, { candidateId: 'r3', decision: 'kept' }, { candidateId: 'r2', decision: 'rejected' }]);
    expect(pairs).toEqual(['r3>r2']);
  });

  it.each(['cancelled', 'failed'] as const)('a %s run is kept, marked, and never exported', async (status) => {
    const { pairs, labels, stats } = await decide([{ candidateId: 'r0', decision: 'applied' }, { candidateId: 'r1', decision: 'rejected' }], status);
    expect(pairs).toEqual([]);
    expect(labels).toEqual({});
    expect(stats).toMatchObject({ tasks: 1, excludedTasks: { [status]: 1 }, accepted: 1, rejected: 1, exportable: { dpoPairs: 0, ktoExamples: 0 } });
  });

  it('a candidate whose rollout failed or was cancelled in a complete run is no rejected sample; a malformed reply is', async () => {
    const rejectAll = ['r1', 'r2', 'r3'].map((candidateId): Action => ({ candidateId, decision: 'rejected' }));
    const stopped = await decide([{ candidateId: 'r0', decision: 'applied' }, ...rejectAll], 'complete', { r1: 'model_error', r2: 'crashed', r3: 'cancelled' });
    expect(stopped.pairs).toEqual([]);
    expect(stopped.labels).toEqual({ r0: true });
    expect(stopped.stats).toMatchObject({ accepted: 1, rejected: 3, excludedCandidates: 3, exportable: { dpoPairs: 0, ktoExamples: 1 } });
    const malformed = await decide([{ candidateId: 'r0', decision: 'applied' }, ...rejectAll], 'complete', { r1: 'format_error', r2: 'limits_exceeded', r3: 'crashed' });
    expect(malformed.pairs).toEqual(['r0>r1', 'r0>r2']);
    expect(malformed.stats.excludedCandidates).toBe(1);
    // Over the batch's shared budget is what the other rollouts spent, not this one's own limits.
    const budget = await decide([{ candidateId: 'r0', decision: 'applied' }, ...rejectAll], 'complete', { r1: 'limits_exceeded', r2: { exitReason: 'limits_exceeded', batchBudget: true } });
    expect(budget.pairs).toEqual(['r0>r1', 'r0>r3']);
  });

  it('refuses a replaced decision without the candidate that replaced it, and `by` on any other decision', async () => {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    const store = PreferenceStore.open(path.join(temp.dir, 'store'), { env: {} });
    await expect(store.appendDecision({ taskId: 't', candidateId: 'r0', decision: 'replaced' })).rejects.toThrow(AgentError);
    await expect(store.appendDecision({ taskId: 't', candidateId: 'r0', decision: 'applied', by: 'r1' })).rejects.toThrow(/only that one/);
    await expect(store.appendDecision({ taskId: 't', candidateId: 'r0', decision: 'liked' as DecisionInput['decision'] })).rejects.toThrow(/one of applied, kept, rejected/);
  });
});
