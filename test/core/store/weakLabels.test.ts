/** Weak labels (export --weak-labels T): a confident verifier labels undecided candidates, unless their own tests disagree. */
import { describe, expect, it } from 'vitest';
import { labelTask, preferencePairs, summarizeTask } from '../../../src/core/store/labels.js';
import type { TaskRecord } from '../../../src/core/store/storeTypes.js';
import type { SignalValue } from '../../../src/core/verify/signalTypes.js';
import { syntheticTask } from './syntheticTask.js';

const ok = (score: number, detail: string, data?: Record<string, unknown>): SignalValue => ({ status: 'ok', score, detail, ...(data ? { data } : {}) });

describe('weak labels', () => {
  it('never contradict the candidate\'s own tests: no weak negative for a fix the tests confirm, no weak positive for a patch that breaks them', () => {
    const task = syntheticTask(11, { candidates: 4, steps: 1 });
    const signals: Record<string, TaskRecord['candidates'][number]['signals']> = {
      // The local verifier is sure it is wrong; the tests show it fixing four failing tests.
      r0: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), regression: ok(1, 'kept 5/5, fixed 4', { broken: [], fixed: ['a', 'b', 'c', 'd'] }), local: ok(0.004, 'local verifier 0.004') },
      // Sure it is right; it breaks three passing tests and fixes none.
      r1: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), regression: ok(-3, 'breaks 3 of 5', { broken: ['x', 'y', 'z'], fixed: [] }), judge: ok(0.97, 'P(YES) 0.97') },
      // No tests ran: the verifier's confident scores stand, either way.
      r2: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), local: ok(0.02, 'local verifier 0.02') },
      r3: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), judge: ok(0.99, 'P(YES) 0.99') },
    };
    const record = { ...task, id: 'task-1', kind: 'task', candidates: task.candidates.map((c) => ({ ...c, signals: signals[c.id] })) } as unknown as TaskRecord;
    const labels = labelTask(summarizeTask(record), undefined, { minConfidence: 0.9 });
    expect(labels.map(({ patch: _, ...l }) => l)).toEqual([{ candidateId: 'r2', accepted: false, weak: true }, { candidateId: 'r3', accepted: true, weak: true }]);
  });

  it('never go against the user\'s decision on the same patch, and a patch is never paired with itself', () => {
    const task = syntheticTask(12, { candidates: 4, steps: 1 });
    const agree = (cluster: string[]) => ok(cluster.length, `${cluster.length} agree`, { cluster });
    const signals: Record<string, TaskRecord['candidates'][number]['signals']> = {
      // r0 and r1 are one patch (the agreement signal's cluster); the judge is sure of r1, the user rejected r0.
      r0: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), agreement: agree(['r0', 'r1']), judge: ok(0.3, 'P(YES) 0.3') },
      r1: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), agreement: agree(['r0', 'r1']), judge: ok(0.95, 'P(YES) 0.95') },
      // r2 and r3 are another patch, both weakly labelled, in opposite ways.
      r2: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), agreement: agree(['r2', 'r3']), judge: ok(0.97, 'P(YES) 0.97') },
      r3: { finished: ok(1, 'submitted'), validity: ok(1, '1 file'), agreement: agree(['r2', 'r3']), judge: ok(0.02, 'P(YES) 0.02') },
    };
    const record = { ...task, id: 'task-2', kind: 'task', candidates: task.candidates.map((c) => ({ ...c, signals: signals[c.id] })) } as unknown as TaskRecord;
    const labels = labelTask(summarizeTask(record), new Map([['r0', 'rejected' as const]]), { minConfidence: 0.9 });
    expect(labels.map((l) => [l.candidateId, l.accepted, l.weak])).toEqual([['r0', false, false], ['r2', true, true], ['r3', false, true]]);
    expect(preferencePairs(labels).map((p) => `${p.chosen.candidateId}>${p.rejected.candidateId}`)).toEqual(['r2>r0']);
  });
});
