import { constants } from 'node:os';
import type { BatchOutcomeKind } from '../core/pipeline/batchOutcome.js';

/** The CLI's exit codes; README.md lists the same. */
export const EXIT = {
  /** `run`: a candidate is worth applying; other commands: done. */
  ok: 0,
  /** An error before or outside any rollout (not a git repository, no consent to run unsandboxed, ...). */
  error: 1,
  /** A wrong command line. */
  usage: 2,
  /** `run`: candidates were made, none is worth applying. */
  noFitCandidate: 3,
  /** `run`: no rollout produced a candidate (the model server, malformed output, crashes). */
  failed: 4,
  /** Cancelled with Ctrl-C. */
  cancelled: 130,
} as const;

/** The exit code of `entropo run` for a batch outcome. */
export function outcomeExitCode(kind: BatchOutcomeKind): number {
  if (kind === 'cancelled') return EXIT.cancelled;
  return kind === 'ready' ? EXIT.ok : kind === 'no_fit_candidate' ? EXIT.noFitCandidate : EXIT.failed;
}

/** The exit code of a command a signal stopped: 128 + its number, as a shell reports it (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
