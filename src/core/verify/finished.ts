import type { SignalValue } from './signalTypes.js';
import { unavailable, type VerifiableCandidate } from './verifiable.js';

/** Signal 1: the run called `finish`. Score 1 or 0; unavailable when there is no record of the run. */
export function finishedSignal(candidate: VerifiableCandidate): SignalValue {
  if (candidate.exitReason !== undefined) {
    const finished = candidate.exitReason === 'submitted';
    return { status: 'ok', score: finished ? 1 : 0, detail: finished ? 'finished' : `did not finish (${candidate.exitReason.replace('_', ' ')})` };
  }
  if (candidate.messages) {
    const finished = candidate.messages.some((m) => m.role === 'assistant'
      && (m.toolCalls?.some((c) => c.name === 'finish') || /<function\s*=\s*finish\s*>/.test(m.content)));
    return { status: 'ok', score: finished ? 1 : 0, detail: finished ? 'finished' : 'did not call finish' };
  }
  return unavailable('no trajectory given');
}
