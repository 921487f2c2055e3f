/** Whether a candidate is worth applying at all, apart from how it ranks against the others. */
import type { ExitReason } from '../types.js';
import { signalTone } from './signalTone.js';
import type { CandidateSignals, SignalName, SignalValue, Unfit } from './signalTypes.js';

/** What fitness reads: the signals, and how the rollout ended where that is known. */
export interface FitnessInput extends CandidateSignals {
  exitReason?: ExitReason;
  /** Why the rollout stopped, when it did not submit. */
  message?: string;
}

// A judge this sure that the patch is right outweighs broken tests, which may assert the old behaviour.
const JUDGE_OUTWEIGHS_TESTS = 0.5;
// The selector's own verifier floor: below it a learned verifier counts as a vote against.
const VERIFIER_FLOOR = 0.01;
const EVIDENCE: SignalName[] = ['syntax', 'regression', 'reproduction', 'agreement'];

/** Undefined for a candidate worth applying, else the first reason it is not, in the order listed above. */
export function unfitness(c: FitnessInput): Unfit | undefined {
  const { finished, validity, regression, reproduction, judge } = c.signals;
  if (score(finished) === 0) {
    const detail = c.message ? `${okDetail(finished)}: ${firstLine(c.message)}` : okDetail(finished);
    const reason = c.exitReason === 'model_error' || c.exitReason === 'crashed' ? 'failed' : c.exitReason === 'cancelled' ? 'cancelled' : 'unfinished';
    return { reason, detail };
  }
  if (score(validity) === 0) return { reason: okDetail(validity) === 'empty patch' ? 'empty' : 'invalid', detail: okDetail(validity) };
  const broken = (regression?.status === 'ok' ? regression.data?.broken : undefined) as string[] | undefined;
  const fixed = (regression?.status === 'ok' ? regression.data?.fixed : undefined) as string[] | undefined;
  if (broken && broken.length > 0 && (fixed?.length ?? 0) === 0 && !((score(reproduction) ?? 0) > 0)
    && !((score(judge) ?? 0) >= JUDGE_OUTWEIGHS_TESTS)) {
    return { reason: 'breaks_tests', detail: `${okDetail(regression)}, and no test shows it fixing anything` };
  }
  const against: string[] = [];
  let inFavour = (fixed?.length ?? 0) > 0;
  for (const name of EVIDENCE) {
    const value = c.signals[name];
    if (!value || value.status !== 'ok') continue;
    const tone = signalTone(name, value);
    if (tone === 'good') inFavour = true;
    if (tone === 'bad') against.push(`${name}: ${value.detail}`);
  }
  // A learned verifier's score alone never makes a candidate unfit: its scale depends on the model.
  if (against.length === 0) return undefined;
  const verifier = score(judge) ?? score(c.signals.local);
  if (verifier !== undefined && verifier > VERIFIER_FLOOR) inFavour = true;
  if (verifier !== undefined && verifier <= VERIFIER_FLOOR) against.push(`verifier score ${verifier.toFixed(3)}`);
  return inFavour ? undefined : { reason: 'signals_against', detail: `every signal is against it (${against.join('; ')})` };
}

function score(value: SignalValue | undefined): number | undefined {
  return value?.status === 'ok' ? value.score : undefined;
}

function okDetail(value: SignalValue | undefined): string {
  return value?.status === 'ok' ? value.detail : 'not measured';
}

function firstLine(text: string): string {
  const line = text.split('\n')[0].trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
