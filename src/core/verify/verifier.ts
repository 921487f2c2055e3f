import type { Usage } from '../types.js';
import type { SignalName, SignalValue } from './signalTypes.js';
import type { VerifiableCandidate } from './verifiable.js';

/** Values of some signals for a set of candidates, each keyed by candidate id. */
export type SignalValues = Partial<Record<SignalName, Map<string, SignalValue>>>;

/**
 * A source of signals that looks at all the candidates of one issue at once: the LLM judge, the local model,
 * the tests. The pipeline builds every verifier from the settings (pipeline/fromSettings.ts); verification runs
 * them side by side, and a verifier that fails makes its signals unavailable with the reason.
 */
export interface Verifier {
  /** The signals it measures. */
  readonly signals: readonly SignalName[];
  /**
   * It runs code of the candidates (the tests): it needs a checkout of the repository, and is given only the
   * candidates that are safe to check out.
   */
  readonly runsCode?: boolean;
  verify(candidates: readonly VerifiableCandidate[], signal?: AbortSignal): Promise<SignalValues>;
  /** What its model calls cost so far (the judge's: one call per candidate), for the run's totals. */
  spent?(): Usage;
}
