import type { ExitReason, Message } from '../types.js';

/** What the verifier needs of a candidate; a batch's Candidate has it all, an external one may lack the run. */
export interface VerifiableCandidate {
  id: string;
  patch: string;
  exitReason?: ExitReason;
  steps?: number;
  messages?: Message[];
}

/** Shorthand for an unavailable signal. */
export function unavailable(reason: string): { status: 'unavailable'; reason: string } {
  return { status: 'unavailable', reason };
}
