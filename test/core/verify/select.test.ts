import { describe, expect, it } from 'vitest';
import { select, type SelectInput } from '../../../src/core/verify/select.js';
import type { SignalValue } from '../../../src/core/verify/signalTypes.js';

const ok = (score: number, detail = `score ${score}`): SignalValue => ({ status: 'ok', score, detail });
const na = (reason: string): SignalValue => ({ status: 'unavailable', reason });

function cand(id: string, s: { fin?: number; valid?: number; reg?: number; repro?: number; judge?: number; local?: number; agree?: number }, steps = 10): SelectInput {
  return {
    candidateId: id, steps,
    signals: {
      finished: ok(s.fin ?? 1, s.fin === 0 ? 'did not finish' : 'finished'), validity: ok(s.valid ?? 1),
      ...(s.reg !== undefined ? { regression: ok(s.reg, s.reg === 0 ? 'no regressions' : `breaks ${-s.reg}`) } : {}),
      ...(s.repro !== undefined ? { reproduction: ok(s.repro, `passes ${s.repro} repro`) } : {}),
      ...(s.judge !== undefined ? { judge: ok(s.judge) } : {}),
      ...(s.local !== undefined ? { local: ok(s.local) } : {}),
      agreement: ok(s.agree ?? 1, `${s.agree ?? 1} agree`),
    },
  };
}

describe('select, EntroPO order', () => {
  it('filters finished, then max regression, then max reproduction, then the verifier floor, with explanations', () => {
    const ranking = select([
      cand('r0', { fin: 0, judge: 0.99 }),
      cand('r1', { reg: -2, repro: 3, judge: 0.9 }),
      cand('r2', { reg: 0, repro: 1, judge: 0.8 }),
      cand('r3', { reg: 0, repro: 2, judge: 0.005 }),
      cand('r4', { reg: 0, repro: 2, judge: 0.6 }),
      cand('r5', { reg: 0, repro: 2, judge: 0.7 }),
    ]);
    expect(ranking.order).toEqual(['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
    expect(ranking.explanations.r5).toBe('kept: no regressions, passes 2 repro, 1 agree, judge 0.70');
    expect(ranking.explanations.r3).toMatch(/^dropped \(verifier score <= 0.01\)/);
    expect(ranking.explanations.r2).toMatch(/^dropped \(passes fewer reproduction tests than the best\)/);
    expect(ranking.explanations.r1).toMatch(/^dropped \(breaks more regression tests than the best\): breaks 2/);
    expect(ranking.explanations.r0).toMatch(/^unfit \(did not finish\)/);
    expect(ranking.recommended).toBe('r5');
    expect(ranking.unfit).toEqual({ r0: { reason: 'unfinished', detail: 'did not finish' } });
  });

  it('falls back to the previous set when a filter would empty it', () => {
    const ranking = select([cand('a', { fin: 0, judge: 0.2 }), cand('b', { fin: 0, judge: 0.005 }), cand('c', { fin: 0, judge: 0.001 })]);
    // Nobody finished and everybody is under the floor but 'a': the filters fall back rather than empty the
    // set, so the unfinished ones are still ranked for people to look at, but none is recommended.
    expect(ranking.order).toEqual(['a', 'b', 'c']);
    expect(ranking.explanations.a).toMatch(/^unfit \(did not finish\)/);
    expect(ranking.recommended).toBeUndefined();
    expect(Object.keys(ranking.unfit ?? {})).toEqual(['a', 'b', 'c']);
    const allLow = select([cand('a', { judge: 0.005 }), cand('b', { judge: 0.001 })]);
    expect(allLow.order).toEqual(['a', 'b']);
    expect(Object.values(allLow.explanations).every((e) => e.startsWith('kept'))).toBe(true);
    // A learned verifier's low score alone does not make a candidate unfit: its scale depends on the model.
    expect(allLow.recommended).toBe('a');
  });

  it('skips a stage whose signal is unavailable for everyone and reports it as unavailable, not zero', () => {
    const inputs = [cand('a', { judge: 0.4 }), cand('b', { judge: 0.9 })];
    for (const c of inputs) c.signals.regression = na('no test command found');
    const ranking = select(inputs);
    expect(ranking.order).toEqual(['b', 'a']);
    expect(ranking.explanations.a).toBe('kept: 1 agree, judge 0.40, unavailable: regression');
  });

  it('does not let a candidate without a measured signal win that stage', () => {
    const a = cand('a', { reg: 0, judge: 0.5 });
    const b = cand('b', { judge: 0.9 });
    b.signals.regression = na('patch does not apply');
    const ranking = select([a, b]);
    expect(ranking.order).toEqual(['a', 'b']);
    expect(ranking.explanations.b).toMatch(/^dropped \(regression unavailable: patch does not apply\)/);
  });

  it('breaks ties by verifier then agreement by default, and by trajectory length when asked', () => {
    const inputs = [cand('a', { judge: 0.5, agree: 3 }, 30), cand('b', { judge: 0.5, agree: 1 }, 5), cand('c', { judge: 0.7, agree: 1 }, 12)];
    expect(select(inputs).order).toEqual(['c', 'a', 'b']);
    expect(select(inputs, { tieBreak: 'agreement' }).order).toEqual(['a', 'c', 'b']);
    expect(select(inputs, { tieBreak: 'longest' }).order).toEqual(['a', 'c', 'b']);
    expect(select(inputs, { tieBreak: 'shortest' }).order).toEqual(['b', 'c', 'a']);
  });

  it('uses the local verifier when the judge is unavailable', () => {
    const a = cand('a', { local: 0.3 });
    const b = cand('b', { local: 0.8 });
    a.signals.judge = na('no logprobs');
    expect(select([a, b]).order).toEqual(['b', 'a']);
    expect(select([a, b]).explanations.b).toContain('local verifier 0.80');
  });

  it('is a pure function: inputs are not changed and the same inputs give the same ranking', () => {
    const inputs = [cand('x', { reg: -1, judge: 0.3 }), cand('y', { reg: 0, judge: 0.2 })];
    const copy = structuredClone(inputs);
    const first = select(inputs);
    expect(inputs).toEqual(copy);
    expect(select(inputs)).toEqual(first);
  });
});

describe('select, R2E-Gym order', () => {
  it('keeps the top half by verifier (at least 3), then regression, then reproduction, then verifier', () => {
    const inputs = [
      cand('a', { judge: 0.9, reg: -1, repro: 2 }),
      cand('b', { judge: 0.8, reg: 0, repro: 1 }),
      cand('c', { judge: 0.7, reg: 0, repro: 1 }),
      cand('d', { judge: 0.2, reg: 0, repro: 5 }),
      cand('e', { judge: 0.1, reg: 0, repro: 5 }),
      cand('f', { judge: 0.05, reg: 0, repro: 5 }),
    ];
    const ranking = select(inputs, { mode: 'r2e' });
    expect(ranking.mode).toBe('r2e');
    expect(ranking.order.slice(0, 3)).toEqual(['b', 'c', 'a']);
    expect(ranking.explanations.d).toMatch(/not in the top half by verifier score/);
    expect(ranking.explanations.a).toMatch(/breaks more regression tests/);
  });
});

describe('select ranks a batch by one verifier source', () => {
  it('never compares one candidate\'s judge score with another\'s local score', () => {
    // The judge answered for one candidate only; the local model scored the other two: the batch goes by local.
    const ranking = select([cand('a', { judge: 0.48 }), cand('b', { local: 0.08 }), cand('c', { local: 0.3 })]);
    expect(ranking.verifier).toBe('local');
    expect(ranking.order).toEqual(['c', 'b', 'a']);
    expect(ranking.explanations.a).not.toMatch(/judge/);
  });

  it('goes by the judge when it scored at least as many candidates as the local model', () => {
    const ranking = select([cand('a', { judge: 0.2, local: 0.9 }), cand('b', { judge: 0.7, local: 0.1 })]);
    expect(ranking.verifier).toBe('judge');
    expect(ranking.order).toEqual(['b', 'a']);
    expect(ranking.explanations.b).toMatch(/judge 0\.70/);
  });

  it('flags a close call when the best two differ only by the verifier, or in nothing', () => {
    expect(select([cand('r1', { reg: 0, local: 0.14 }), cand('r0', { reg: 0, local: 0.08 })]).nearTie)
      .toBe('r1 and r0 differ only by the local verifier, 0.14 vs 0.08');
    expect(select([cand('r0', { reg: 0 }), cand('r1', { reg: 0 })]).nearTie).toBe('r0 and r1 are tied on every signal; the order between them is arbitrary');
    expect(select([cand('r1', { reg: 0, local: 0.14 }), cand('r0', { reg: -1, local: 0.5 })]).nearTie).toBeUndefined();
  });
});
