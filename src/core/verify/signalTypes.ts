/** The verifier's vocabulary: signals per candidate, and the selector's ranking with its explanations. */

/** The signals of DESIGN.md section 5, one module each, in the order they are shown. */
export const SIGNAL_NAMES = ['finished', 'validity', 'syntax', 'regression', 'reproduction', 'agreement', 'judge', 'local'] as const;

/** One of SIGNAL_NAMES. */
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** A signal's value for one candidate; a signal that could not be measured says why instead of scoring 0. */
export type SignalValue =
  | {
      status: 'ok';
      /** Higher is better; the range depends on the signal (documented in its module). */
      score: number;
      /** One line for people, e.g. "fails 3 regression tests: test_a, test_b, test_c". */
      detail: string;
      data?: Record<string, unknown>;
    }
  | { status: 'unavailable'; reason: string };

/** Every signal measured for one candidate, keyed by candidate id. */
export interface CandidateSignals {
  candidateId: string;
  signals: Partial<Record<SignalName, SignalValue>>;
}

/** Selector modes: EntroPO's hybrid order, and R2E-Gym's. */
export type SelectorMode = 'entropo' | 'r2e';

/** Tie-breaks after the filters; EntroPO used trajectory length, tuned per dataset. */
export type TieBreak = 'verifier' | 'agreement' | 'longest' | 'shortest';

/** Why a candidate is not worth applying (DESIGN.md section 6: an unfit candidate is never recommended). */
export type UnfitReason =
  /** The rollout failed: the model server, a crash. */
  | 'failed'
  /** The rollout was stopped by the user's cancel before it finished. */
  | 'cancelled'
  /** The rollout did not call finish (limits, malformed output). */
  | 'unfinished'
  | 'empty'
  /** Does not apply, is not a diff, or only touches tests and scratch files. */
  | 'invalid'
  /** Breaks tests that passed, and no test shows it fixing anything. */
  | 'breaks_tests'
  /** Every signal that speaks, speaks against it. */
  | 'signals_against';

/** One unfit candidate's reason, with a line for people. */
export interface Unfit {
  reason: UnfitReason;
  detail: string;
}

/** The selector's output: candidate ids best first, and one line per candidate saying why it stands there. */
export interface Ranking {
  mode: SelectorMode;
  /** Fit candidates first; unfit ones after them, still ranked so that people can look at them. */
  order: string[];
  explanations: Record<string, string>;
  /** The candidate worth applying: the first of `order` when it is fit; absent when none is. */
  recommended?: string;
  /** The learned verifier the batch was ranked by (never a mix of the judge and the local model). */
  verifier?: 'judge' | 'local';
  /** A close call between the recommended candidate and the next, e.g. "r1 and r0 differ only by the local verifier, 0.14 vs 0.08". */
  nearTie?: string;
  /** Why each unfit candidate is not worth applying (see verify/fitness.ts), by candidate id. */
  unfit?: Record<string, Unfit>;
}
