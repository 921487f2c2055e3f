import { describe, expect, it } from 'vitest';
import { finishedSignal } from '../../../src/core/verify/finished.js';
import { signalTone } from '../../../src/core/verify/signalTone.js';
import type { SignalValue } from '../../../src/core/verify/signalTypes.js';

const ok = (score: number, data?: Record<string, unknown>): SignalValue => ({ status: 'ok', score, detail: '', ...(data ? { data } : {}) });

describe('signalTone', () => {
  it('reads finished from the real signal: submitted is good, a run that hit its limits is bad', () => {
    expect(signalTone('finished', finishedSignal({ id: 'a', patch: '', exitReason: 'submitted' }))).toBe('good');
    expect(signalTone('finished', finishedSignal({ id: 'a', patch: '', exitReason: 'limits_exceeded' }))).toBe('bad');
  });

  it('marks broken tests and new syntax errors as bad, none as good', () => {
    expect(signalTone('regression', ok(-3))).toBe('bad');
    expect(signalTone('regression', ok(0))).toBe('good');
    expect(signalTone('syntax', ok(-1))).toBe('bad');
    expect(signalTone('syntax', ok(0))).toBe('good');
    expect(signalTone('validity', ok(0))).toBe('bad');
  });

  it('is good only when every reproduction test passes, bad when none does', () => {
    expect(signalTone('reproduction', ok(2, { total: 2 }))).toBe('good');
    expect(signalTone('reproduction', ok(1, { total: 2 }))).toBe('neutral');
    expect(signalTone('reproduction', ok(0, { total: 2 }))).toBe('bad');
  });

  it('keeps learned scores, a unique patch and unavailable signals neutral', () => {
    expect(signalTone('local', ok(0.9))).toBe('neutral');
    expect(signalTone('judge', ok(0.01))).toBe('neutral');
    expect(signalTone('agreement', ok(1))).toBe('neutral');
    expect(signalTone('agreement', ok(3))).toBe('good');
    expect(signalTone('regression', { status: 'unavailable', reason: 'no tests found' })).toBe('neutral');
  });
});
