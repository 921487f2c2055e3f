/** Regression evidence across candidates: how many of them break each test. */
import type { SignalValue } from '../signalTypes.js';
import { noSourceChange } from '../validity.js';
import type { VerifiableCandidate } from '../verifiable.js';

/**
 * How a test that every source-changing candidate breaks is scored. `count`: like any other broken test.
 * `ignore`: not at all, since it is evidence about the test (often one asserting the behaviour the issue
 * calls a bug; DESIGN.md section 5) rather than against any one candidate.
 */
export type SharedBreaks = 'count' | 'ignore';

/**
 * Adds to each measured regression value how many candidates break each of its broken tests (`breakCounts`)
 * and which of them every source-changing candidate with a measured run breaks (`sharedBroken`, only when
 * there are at least two such candidates), and says so in the detail. With `ignore`, shared tests leave the
 * score. Returns a new map; values that are unavailable are kept as they are.
 */
export function withSharedBreaks(
  values: ReadonlyMap<string, SignalValue>,
  candidates: readonly Pick<VerifiableCandidate, 'id' | 'patch'>[],
  mode: SharedBreaks = 'count',
): Map<string, SignalValue> {
  const measured = candidates.filter((c) => c.patch.trim() !== '' && noSourceChange(c.patch) === undefined && values.get(c.id)?.status === 'ok');
  const counts = new Map<string, number>();
  for (const c of measured) for (const test of brokenOf(values.get(c.id))) counts.set(test, (counts.get(test) ?? 0) + 1);
  const out = new Map(values);
  for (const [id, value] of values) {
    if (value.status !== 'ok') continue;
    const broken = brokenOf(value);
    if (broken.length === 0) continue;
    const shared = measured.length >= 2 && measured.some((c) => c.id === id)
      ? broken.filter((test) => counts.get(test) === measured.length) : [];
    const breakCounts = Object.fromEntries(broken.map((test) => [test, counts.get(test) ?? 1]));
    const detail = shared.length === 0 ? value.detail
      : `${value.detail}; ${shared.length === broken.length ? 'all' : shared.length} broken by every candidate that changes source (${measured.length}), perhaps tests of the old behaviour`;
    const score = mode === 'ignore' ? -(broken.length - shared.length) : value.score;
    out.set(id, { ...value, score: score === 0 ? 0 : score, detail, data: { ...value.data, breakCounts, sharedBroken: shared, measuredCandidates: measured.length } });
  }
  return out;
}

function brokenOf(value: SignalValue | undefined): string[] {
  const broken = value?.status === 'ok' ? value.data?.broken : undefined;
  return Array.isArray(broken) ? broken.filter((t): t is string => typeof t === 'string') : [];
}
