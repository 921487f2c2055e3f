import { describe, expect, it } from 'vitest';
import type { SignalValue } from '../../../../src/core/verify/signalTypes.js';
import { withSharedBreaks } from '../../../../src/core/verify/execution/sharedBreaks.js';

const diff = (file: string) => `diff --git a/${file} b/${file}\nindex 1111111..2222222 100644\n--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-a\n+b\n`;
const broke = (...broken: string[]): SignalValue => ({
  status: 'ok', score: broken.length === 0 ? 0 : -broken.length,
  detail: broken.length === 0 ? '3/3 tests that passed before still pass' : `breaks ${broken.length} of 3 passing tests: ${broken.join(', ')}`, data: { broken },
});

describe('withSharedBreaks', () => {
  const candidates = [
    { id: 'a', patch: diff('pkg/mod.py') }, { id: 'b', patch: diff('pkg/mod.py') }, { id: 'c', patch: diff('pkg/other.py') },
    // Only a test change: not a candidate whose breaks say anything about the others.
    { id: 't', patch: diff('tests/test_mod.py') },
  ];
  const values = new Map<string, SignalValue>([
    ['a', broke('test_old_behaviour')], ['b', broke('test_old_behaviour', 'test_other')], ['c', broke('test_old_behaviour')],
    ['t', broke()],
  ]);

  it('counts, per broken test, the candidates that break it, and names the tests every source change breaks', () => {
    const out = withSharedBreaks(values, candidates);
    expect(out.get('b')).toEqual({
      status: 'ok', score: -2,
      detail: 'breaks 2 of 3 passing tests: test_old_behaviour, test_other; 1 broken by every candidate that changes source (3), perhaps tests of the old behaviour',
      data: { broken: ['test_old_behaviour', 'test_other'], breakCounts: { test_old_behaviour: 3, test_other: 1 }, sharedBroken: ['test_old_behaviour'], measuredCandidates: 3 },
    });
    expect(out.get('a')).toMatchObject({ score: -1, detail: expect.stringMatching(/; all broken by every candidate that changes source \(3\)/) });
    expect(out.get('t')).toEqual(values.get('t'));
  });

  it('leaves shared tests out of the score when asked, and needs two measured source changes to call a test shared', () => {
    const out = withSharedBreaks(values, candidates, 'ignore');
    expect([out.get('a'), out.get('b'), out.get('c')].map((v) => v?.status === 'ok' && v.score)).toEqual([0, -1, 0]);
    const alone = withSharedBreaks(new Map([['a', broke('test_x')], ['b', { status: 'unavailable', reason: 'timed out' }]]), candidates.slice(0, 2), 'ignore');
    expect(alone.get('a')).toMatchObject({ score: -1, data: { sharedBroken: [], breakCounts: { test_x: 1 }, measuredCandidates: 1 } });
  });
});
