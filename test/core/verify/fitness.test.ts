import { describe, expect, it } from 'vitest';
import { unfitness, type FitnessInput } from '../../../src/core/verify/fitness.js';
import { select } from '../../../src/core/verify/select.js';
import type { SignalValue } from '../../../src/core/verify/signalTypes.js';

const ok = (score: number, detail: string, data?: Record<string, unknown>): SignalValue => ({ status: 'ok', score, detail, ...(data ? { data } : {}) });
const finished = ok(1, 'finished');
const valid = ok(1, '1 file(s), applies to the snapshot');
const breaksAll = ok(-5, 'breaks 5 of 5 passing tests: test_a, test_b, test_c, test_d, test_e', { broken: ['a', 'b', 'c', 'd', 'e'], fixed: [] });

function input(id: string, signals: FitnessInput['signals'], more: Partial<FitnessInput> = {}): FitnessInput {
  return { candidateId: id, signals: { finished, validity: valid, ...signals }, ...more };
}

describe('unfitness', () => {
  it('names why a candidate is not worth applying, one reason each', () => {
    expect(unfitness(input('a', { finished: ok(0, 'did not finish (model error)') }, { exitReason: 'model_error', message: 'The model server returned HTTP 500 after 5 attempts' })))
      .toEqual({ reason: 'failed', detail: 'did not finish (model error): The model server returned HTTP 500 after 5 attempts' });
    expect(unfitness(input('b', { finished: ok(0, 'did not finish (limits exceeded)') }, { exitReason: 'limits_exceeded' })))
      .toEqual({ reason: 'unfinished', detail: 'did not finish (limits exceeded)' });
    expect(unfitness(input('c', { validity: ok(0, 'empty patch') }))).toEqual({ reason: 'empty', detail: 'empty patch' });
    expect(unfitness(input('d', { validity: ok(0, 'does not apply: corrupt patch at line 3') })))
      .toEqual({ reason: 'invalid', detail: 'does not apply: corrupt patch at line 3' });
    expect(unfitness(input('e', { regression: breaksAll, syntax: ok(0, 'no new syntax errors') })))
      .toEqual({ reason: 'breaks_tests', detail: `${breaksAll.status === 'ok' ? breaksAll.detail : ''}, and no test shows it fixing anything` });
    expect(unfitness(input('f', { syntax: ok(-2, '2 new syntax errors'), reproduction: ok(0, 'passes 0/1 reproduction tests', { total: 1 }), local: ok(0.005, 'p') })))
      .toEqual({ reason: 'signals_against', detail: 'every signal is against it (syntax: 2 new syntax errors; reproduction: passes 0/1 reproduction tests; verifier score 0.005)' });
  });

  it('lets evidence for a candidate outweigh broken tests that may assert the old behaviour', () => {
    expect(unfitness(input('a', { regression: ok(-1, 'breaks 1 of 5', { broken: ['x'], fixed: ['y'] }) }))).toBeUndefined();
    expect(unfitness(input('b', { regression: breaksAll, reproduction: ok(1, 'passes 1/1', { total: 1 }) }))).toBeUndefined();
    expect(unfitness(input('c', { regression: breaksAll, judge: ok(0.8, 'P(YES) 0.80') }))).toBeUndefined();
    expect(unfitness(input('d', { syntax: ok(-1, '1 new syntax error'), regression: ok(0, '5/5 tests that passed before still pass', { broken: [], fixed: [] }) }))).toBeUndefined();
  });

  it('makes the selector recommend nothing when no candidate is fit, and a fit one over a better-scored unfit one', () => {
    const none = select([input('r0', { regression: breaksAll, local: ok(0.9, 'p') })]);
    expect(none.recommended).toBeUndefined();
    expect(none.explanations.r0).toMatch(/^unfit \(breaks 5 of 5 passing tests/);
    const fitLast = select([input('r0', { syntax: ok(-1, '1 new syntax error'), reproduction: ok(0, 'passes 0/1', { total: 1 }), local: ok(0.009, 'p') }),
      input('r1', { syntax: ok(0, 'no new syntax errors'), reproduction: ok(0, 'passes 0/1', { total: 1 }), local: ok(0.005, 'p') })]);
    expect(fitLast.order).toEqual(['r1', 'r0']);
    expect(fitLast.recommended).toBe('r1');
  });
});
