/** Joins candidates with their signals and the selector's verdict, once, into the record every front end reads. */
import { select, type SelectOptions } from './select.js';
import type { CandidateSignals, Ranking, Unfit } from './signalTypes.js';
import type { VerifiableCandidate } from './verifiable.js';

/** A candidate with everything the verifier and the selector said about it. */
export type RankedCandidate<C extends VerifiableCandidate = VerifiableCandidate> = C & {
  /** 1 for the best. */
  rank: number;
  signals: CandidateSignals['signals'];
  /** The selector's one line on where the candidate stands and why. */
  explanation: string;
  /** Why it is not worth applying, when it is not. */
  unfit?: Unfit;
  /** The candidate worth applying: at most one per batch, and never an unfit one. */
  recommended: boolean;
};

/** The ranking and the candidates in its order, best first, each joined with its signals. */
export interface RankedCandidates<C extends VerifiableCandidate> {
  ranking: Ranking;
  candidates: RankedCandidate<C>[];
}

/**
 * Ranks `candidates` from their `signals` (one entry per candidate, as verifyCandidates returns them) with
 * the selector, and joins everything by id: nothing downstream looks a candidate up again.
 */
export function rankCandidates<C extends VerifiableCandidate & { message?: string }>(
  candidates: readonly C[], signals: readonly CandidateSignals[], options?: SelectOptions,
): RankedCandidates<C> {
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const ranking = select(signals.map((s) => {
    const c = byId.get(s.candidateId);
    return { ...s, steps: c?.steps, exitReason: c?.exitReason, message: c?.message };
  }), options);
  const signalsOf = new Map(signals.map((s) => [s.candidateId, s.signals]));
  const ranked = ranking.order.map((id, i): RankedCandidate<C> => {
    const unfit = ranking.unfit?.[id];
    return {
      ...byId.get(id)!, rank: i + 1, signals: signalsOf.get(id) ?? {}, explanation: ranking.explanations[id] ?? '',
      ...(unfit ? { unfit } : {}), recommended: ranking.recommended === id,
    };
  });
  return { ranking, candidates: ranked };
}
