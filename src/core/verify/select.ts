import { unfitness, type FitnessInput } from './fitness.js';
import type { Ranking, SelectorMode, SignalName, SignalValue, TieBreak, Unfit } from './signalTypes.js';

/** What the selector knows of one candidate. */
export interface SelectInput extends FitnessInput {
  /** Trajectory length, for the longest/shortest tie-breaks. */
  steps?: number;
}

/** Selector settings; defaults: EntroPO's order, ties broken by verifier score, then agreement. */
export interface SelectOptions {
  mode?: SelectorMode;
  tieBreak?: TieBreak;
}

type Stage = { name: string; keep: (set: SelectInput[]) => SelectInput[] | undefined; why: (c: SelectInput, kept: SelectInput[]) => string };

/** The learned verifiers; a batch is ranked by one of them only. */
export type VerifierSource = 'judge' | 'local';

/**
 * The verifier a batch is ranked by: the LLM judge when it scored at least as many candidates as the local
 * model, else the local model. One source for the whole batch, because a judge's P(YES) and the local
 * model's score are on different scales: one candidate's judge 0.48 is no better than another's local 0.08.
 */
export function verifierSource(inputs: readonly SelectInput[]): VerifierSource | undefined {
  const judged = inputs.filter((c) => score(c.signals.judge) !== undefined).length;
  const local = inputs.filter((c) => score(c.signals.local) !== undefined).length;
  if (judged === 0 && local === 0) return undefined;
  return judged >= local ? 'judge' : 'local';
}

/** A candidate's score from the batch's verifier source (undefined when that source did not score it). */
type VerifierScore = (c: SelectInput) => number | undefined;

/**
 * Ranks candidates from their signals; a pure function. Each stage filters the remaining set and falls back
 * to the previous set when it would empty it; a stage whose signal is unavailable for every candidate is
 * skipped. Kept candidates come first in tie-break order, then the others, those dropped later first.
 * Unfit candidates (verify/fitness.ts) then move behind the fit ones; the first candidate is recommended only
 * when it is fit, so the selector can conclude that nothing is worth applying. Every candidate gets one line
 * saying where it stands and why.
 */
export function select(inputs: readonly SelectInput[], options: SelectOptions = {}): Ranking {
  const mode = options.mode ?? 'entropo';
  const source = verifierSource(inputs);
  const verifierScore: VerifierScore = (c) => (source === undefined ? undefined : score(c.signals[source]));
  const compare = comparator(options.tieBreak ?? 'verifier', verifierScore);
  let set = [...inputs];
  const why = new Map<SelectInput, string>();
  const droppedByStage: SelectInput[][] = [];
  for (const stage of mode === 'entropo' ? entropoStages(verifierScore) : r2eStages(verifierScore)) {
    const kept = stage.keep(set);
    if (!kept || kept.length === 0 || kept.length === set.length) continue;
    const out = set.filter((c) => !kept.includes(c));
    for (const c of out) why.set(c, stage.why(c, kept));
    droppedByStage.push(out);
    set = kept;
  }
  const ranked = [...set.sort(compare), ...droppedByStage.reverse().flatMap((out) => out.sort(compare))];
  const unfit = new Map<SelectInput, Unfit>();
  for (const c of ranked) {
    const u = unfitness(c);
    if (u) unfit.set(c, u);
  }
  const order = [...ranked.filter((c) => !unfit.has(c)), ...ranked.filter((c) => unfit.has(c))];
  const explanations: Record<string, string> = {};
  for (const c of order) {
    const u = unfit.get(c);
    const where = u ? `unfit (${u.detail})` : why.has(c) ? `dropped (${why.get(c)})` : 'kept';
    explanations[c.candidateId] = `${where}: ${summary(c, source)}`;
  }
  const recommended = order.length > 0 && !unfit.has(order[0]) ? order[0].candidateId : undefined;
  const tie = recommended && order.length > 1 && !unfit.has(order[1]) ? nearTie(order[0], order[1], source) : undefined;
  return { mode, order: order.map((c) => c.candidateId), explanations, ...(recommended ? { recommended } : {}),
    ...(source ? { verifier: source } : {}), ...(tie ? { nearTie: tie } : {}),
    unfit: Object.fromEntries([...unfit].map(([c, u]) => [c.candidateId, u])) };
}

function entropoStages(verifierScore: VerifierScore): Stage[] {
  return [
    filterStage('finished', (c) => (score(c.signals.finished) ?? 1) > 0 && (score(c.signals.validity) ?? 1) > 0, (c) => notFinished(c)),
    maxStage('regression', 'breaks more regression tests than the best'),
    maxStage('reproduction', 'passes fewer reproduction tests than the best'),
    filterStage('verifier floor', (c) => (verifierScore(c) ?? 1) > 0.01, () => 'verifier score <= 0.01'),
  ];
}

function r2eStages(verifierScore: VerifierScore): Stage[] {
  return [
    filterStage('valid', (c) => (score(c.signals.validity) ?? 1) > 0, (c) => notFinished(c)),
    {
      name: 'verifier top half',
      keep: (set) => {
        if (set.every((c) => verifierScore(c) === undefined)) return undefined;
        const sorted = [...set].sort((a, b) => (verifierScore(b) ?? -1) - (verifierScore(a) ?? -1));
        return sorted.slice(0, Math.max(3, Math.ceil(set.length / 2)));
      },
      why: () => 'not in the top half by verifier score',
    },
    maxStage('regression', 'breaks more regression tests than the best'),
    maxStage('reproduction', 'passes fewer reproduction tests than the best'),
  ];
}

function filterStage(name: string, ok: (c: SelectInput) => boolean, why: (c: SelectInput) => string): Stage {
  return { name, keep: (set) => set.filter(ok), why: (c) => why(c) };
}

// Keeps the candidates with the best score of one signal; candidates without the signal cannot win it.
function maxStage(signal: SignalName, why: string): Stage {
  return {
    name: signal,
    keep: (set) => {
      const values = set.map((c) => score(c.signals[signal]));
      if (values.every((v) => v === undefined)) return undefined;
      const best = Math.max(...values.filter((v): v is number => v !== undefined));
      return set.filter((_, i) => values[i] === best);
    },
    why: (c) => score(c.signals[signal]) === undefined ? `${signal} unavailable: ${reason(c.signals[signal])}` : why,
  };
}

function comparator(tieBreak: TieBreak, verifierScore: VerifierScore): (a: SelectInput, b: SelectInput) => number {
  const verifier = (a: SelectInput, b: SelectInput) => (verifierScore(b) ?? -1) - (verifierScore(a) ?? -1);
  const agreement = (a: SelectInput, b: SelectInput) => (score(b.signals.agreement) ?? 0) - (score(a.signals.agreement) ?? 0);
  const steps = (a: SelectInput, b: SelectInput) => (a.steps ?? 0) - (b.steps ?? 0);
  const byId = (a: SelectInput, b: SelectInput) => a.candidateId.localeCompare(b.candidateId, undefined, { numeric: true });
  const chain: Record<TieBreak, ((a: SelectInput, b: SelectInput) => number)[]> = {
    verifier: [verifier, agreement],
    agreement: [agreement, verifier],
    longest: [(a, b) => -steps(a, b), verifier],
    shortest: [steps, verifier],
  };
  return (a, b) => {
    for (const f of [...chain[tieBreak], byId]) {
      const d = f(a, b);
      if (d !== 0) return d;
    }
    return 0;
  };
}

function summary(c: SelectInput, source: VerifierSource | undefined): string {
  const parts: string[] = [];
  for (const name of ['regression', 'reproduction', 'agreement', 'syntax'] as const) {
    const value = c.signals[name];
    if (value?.status === 'ok') parts.push(value.detail);
  }
  const v = source === undefined ? undefined : score(c.signals[source]);
  if (v !== undefined) parts.push(`${source === 'judge' ? 'judge' : 'local verifier'} ${v.toFixed(2)}`);
  const missing = (Object.entries(c.signals) as [SignalName, SignalValue][]).filter(([, s]) => s.status === 'unavailable').map(([n]) => n);
  if (missing.length > 0) parts.push(`unavailable: ${missing.join(', ')}`);
  return parts.join(', ') || 'no signals';
}

/**
 * When the best and the second-best fit candidates differ in nothing but the verifier's score (or in
 * nothing at all), the pick between them is a close call, said in one line; undefined otherwise.
 */
function nearTie(best: SelectInput, second: SelectInput, source: VerifierSource | undefined): string | undefined {
  const names = new Set([...Object.keys(best.signals), ...Object.keys(second.signals)] as SignalName[]);
  const differ = [...names].filter((name) => {
    const a = best.signals[name];
    const b = second.signals[name];
    return a?.status !== b?.status || score(a) !== score(b);
  });
  const pair = `${best.candidateId} and ${second.candidateId}`;
  if (differ.length === 0) return `${pair} are tied on every signal; the order between them is arbitrary`;
  if (source === undefined || differ.length !== 1 || differ[0] !== source) return undefined;
  const name = source === 'judge' ? 'the judge' : 'the local verifier';
  return `${pair} differ only by ${name}, ${score(best.signals[source])?.toFixed(2)} vs ${score(second.signals[source])?.toFixed(2)}`;
}

function notFinished(c: SelectInput): string {
  if (score(c.signals.finished) === 0) return c.signals.finished?.status === 'ok' ? c.signals.finished.detail : 'did not finish';
  return c.signals.validity?.status === 'ok' ? c.signals.validity.detail : 'invalid patch';
}

function score(value: SignalValue | undefined): number | undefined {
  return value?.status === 'ok' ? value.score : undefined;
}

function reason(value: SignalValue | undefined): string {
  return value?.status === 'unavailable' ? value.reason : 'not measured';
}
