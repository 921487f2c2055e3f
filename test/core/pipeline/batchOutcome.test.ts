import { describe, expect, it } from 'vitest';
import { batchOutcome, verifierNotes } from '../../../src/core/pipeline/batchOutcome.js';
import type { Candidate } from '../../../src/core/sampling/batchTypes.js';
import type { Ranking } from '../../../src/core/verify/signalTypes.js';

type Brief = Pick<Candidate, 'id' | 'exitReason' | 'message' | 'patch'>;
const http500 = 'The model server at http://127.0.0.1:1/v1 returned HTTP 500 after 5 attempts: overloaded';

function ranking(order: string[], unfit: Ranking['unfit'] = {}, recommended?: string): Ranking {
  return { mode: 'entropo', order, explanations: {}, unfit, ...(recommended ? { recommended } : {}) };
}

describe('batchOutcome', () => {
  it('is ready when the selector recommends a candidate', () => {
    const candidates: Brief[] = [{ id: 'r0', exitReason: 'submitted', patch: 'diff' }, { id: 'r1', exitReason: 'limits_exceeded', patch: '' }];
    const outcome = batchOutcome(candidates, ranking(['r0', 'r1'], { r1: { reason: 'unfinished', detail: 'did not finish' } }, 'r0'));
    expect(outcome).toEqual({ kind: 'ready', recommended: 'r0', summary: 'r0 is worth applying (1 of 2 candidates are fit)',
      unfit: [{ id: 'r1', reason: 'unfinished', detail: 'did not finish' }] });
  });

  it('fails when no rollout produced a candidate, with the cause once when they share it', () => {
    const candidates: Brief[] = ['r0', 'r1', 'r2', 'r3'].map((id) => ({ id, exitReason: 'model_error', message: http500, patch: '' }));
    const unfit = Object.fromEntries(candidates.map((c) => [c.id, { reason: 'failed' as const, detail: http500 }]));
    const outcome = batchOutcome(candidates, ranking(['r0', 'r1', 'r2', 'r3'], unfit));
    expect(outcome.kind).toBe('failed');
    expect(outcome.summary).toBe('4 of 4 rollouts failed: the model server at http://127.0.0.1:1/v1 returned HTTP 500 after 5 attempts: overloaded');
    expect(outcome.recommended).toBeUndefined();
    const mixed = batchOutcome([candidates[0], { id: 'r1', exitReason: 'format_error', message: 'The model produced 3 malformed actions in a row', patch: '' }],
      ranking(['r0', 'r1'], unfit));
    expect(mixed.summary).toBe('2 of 2 rollouts failed: r0: the model server at http://127.0.0.1:1/v1 returned HTTP 500 after 5 attempts: overloaded; '
      + 'r1: the model produced 3 malformed actions in a row');
  });

  it('has no fit candidate when candidates were made but none is worth applying, each with its reason', () => {
    const candidates: Brief[] = [{ id: 'r0', exitReason: 'submitted', patch: 'diff' }, { id: 'r1', exitReason: 'model_error', message: http500, patch: '' }];
    const outcome = batchOutcome(candidates, ranking(['r0', 'r1'], {
      r0: { reason: 'breaks_tests', detail: 'breaks 5 of 5 passing tests' }, r1: { reason: 'failed', detail: http500 } }));
    expect(outcome.kind).toBe('no_fit_candidate');
    expect(outcome.summary).toBe(`none of the 2 candidates is worth applying: r0 breaks tests (breaks 5 of 5 passing tests); r1 failed (${http500})`);
    expect(outcome.unfit.map((u) => u.reason)).toEqual(['breaks_tests', 'failed']);
  });
});

describe('verifierNotes', () => {
  it('says once that the judge scored no candidate, with the reason they share as one sentence', () => {
    const dead = { status: 'unavailable' as const, reason: 'judge failed: The model server at http://127.0.0.1:1/v1 did not start answering within 1 s; check that it is running and not overloaded, or raise the request timeout.' };
    const notes = verifierNotes([{ signals: { judge: dead } }, { signals: { judge: dead } }, { signals: { judge: dead } }]);
    expect(notes).toEqual([`The judge scored no candidate: ${dead.reason}`]);
    expect(verifierNotes([{ signals: { judge: { status: 'unavailable', reason: 'the endpoint returned no logprobs (answer was "YES")' } } }]))
      .toEqual(['The judge scored no candidate: the endpoint returned no logprobs (answer was "YES").']);
  });
});
