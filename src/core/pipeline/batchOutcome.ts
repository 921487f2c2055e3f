/** What a batch amounts to, in one word and one line, shared by the CLI, the extension and result.json. */
import type { Candidate } from '../sampling/batchTypes.js';
import type { CandidateSignals, Ranking, UnfitReason } from '../verify/signalTypes.js';

/**
 * `ready`: a candidate is worth applying. `no_fit_candidate`: candidates were made but none is worth
 * applying. `failed`: no rollout produced a candidate at all (the model server, malformed output, a crash).
 * `cancelled`: the user stopped the run (during the rollouts or the verification).
 */
export type BatchOutcomeKind = 'ready' | 'no_fit_candidate' | 'failed' | 'cancelled';

/** The batch's outcome: the kind, the candidate to apply when ready, and every unfit candidate with its reason. */
export interface BatchOutcome {
  kind: BatchOutcomeKind;
  /** One line for people, without the kind; the CLI ends with it and the panel shows it above the list. */
  summary: string;
  recommended?: string;
  unfit: { id: string; reason: UnfitReason; detail: string }[];
  /** What to say once about the whole batch, e.g. a learned verifier that scored no candidate, and why. */
  notes?: string[];
}

// Exit reasons that mean the rollout never got as far as a candidate of its own.
const FAILURES = new Set<Candidate['exitReason']>(['model_error', 'crashed', 'format_error', 'cancelled']);

/**
 * Joins the batch and the ranking into the outcome; computed once, in the core, for every front end. A
 * `cancelled` run recommends nothing (fixIssue ranks it on the quick checks alone); the summary names the
 * candidates that finished before the cancel, untested.
 */
export function batchOutcome(candidates: readonly Pick<Candidate, 'id' | 'exitReason' | 'message' | 'patch'>[], ranking: Ranking, cancelled = false): BatchOutcome {
  const unfit = ranking.order.flatMap((id) => {
    const u = ranking.unfit?.[id];
    return u ? [{ id, reason: u.reason as UnfitReason, detail: u.detail }] : [];
  });
  if (cancelled) {
    const stopped = candidates.filter((c) => c.exitReason === 'cancelled').length;
    const untested = candidates.filter((c) => c.exitReason !== 'cancelled' && c.patch !== '' && !ranking.unfit?.[c.id]).map((c) => c.id);
    const rest = untested.length === 0 ? 'no candidate is worth applying'
      : `${untested.join(', ')} finished before it but ${untested.length === 1 ? 'is' : 'are'} untested (a cancelled run runs no tests and asks no model): review the diff before applying`;
    return { kind: 'cancelled', unfit, summary: `the run was cancelled: ${stopped} of ${candidates.length} rollouts were stopped before they finished; ${rest}` };
  }
  if (ranking.recommended) {
    const fit = candidates.length - unfit.length;
    return { kind: 'ready', recommended: ranking.recommended, unfit,
      summary: `${ranking.recommended} is worth applying (${fit} of ${candidates.length} candidate${candidates.length === 1 ? ' is' : 's are'} fit)` };
  }
  const failed = candidates.filter((c) => FAILURES.has(c.exitReason) && c.patch === '');
  if (candidates.length > 0 && failed.length === candidates.length) {
    return { kind: 'failed', unfit, summary: `${failed.length} of ${candidates.length} rollouts failed: ${causes(failed)}` };
  }
  const reasons = unfit.map((u) => `${u.id} ${u.reason.replace('_', ' ')} (${clip(u.detail, 240)})`);
  return { kind: 'no_fit_candidate', unfit,
    summary: candidates.length === 0 ? 'no candidates were made' : `none of the ${candidates.length} candidates is worth applying: ${reasons.join('; ')}` };
}

/** The distinct reasons the rollouts failed, most common first, with the rollouts each one stopped. */
function causes(failed: readonly Pick<Candidate, 'id' | 'exitReason' | 'message'>[]): string {
  const byCause = new Map<string, string[]>();
  for (const c of failed) {
    const cause = lowerFirst(clip(c.message?.split('\n')[0].trim() || c.exitReason.replace('_', ' '), 300));
    byCause.set(cause, [...(byCause.get(cause) ?? []), c.id]);
  }
  const sorted = [...byCause].sort((a, b) => b[1].length - a[1].length);
  if (sorted.length === 1) return sorted[0][0];
  return sorted.map(([cause, ids]) => `${ids.join(', ')}: ${cause}`).join('; ');
}

function lowerFirst(text: string): string {
  // "The model server..." reads as the middle of the line; an all-caps word (HTTP) stays as it is.
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/**
 * One line for each learned verifier that was asked but scored no candidate at all, with the reason they
 * share (the judge's endpoint returns no logprobs, the local model is missing): said once, not per card.
 */
export function verifierNotes(candidates: readonly { signals: CandidateSignals['signals'] }[]): string[] {
  const notes: string[] = [];
  for (const [name, label] of [['judge', 'The judge'], ['local', 'The local verifier']] as const) {
    const values = candidates.map((c) => c.signals[name]);
    if (values.length === 0 || values.some((v) => v?.status !== 'unavailable')) continue;
    const reasons = new Set(values.map((v) => (v?.status === 'unavailable' ? v.reason : '')));
    const [reason] = reasons;
    if (reasons.size === 1 && !/^no (judge|local verifier) configured$|^not run: /.test(reason)) notes.push(`${label} scored no candidate: ${reason.replace(/\.$/, '')}.`);
  }
  return notes;
}
