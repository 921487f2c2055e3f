/** Turns decisions (and, if asked, confident verifier scores) into accepted/rejected labels per candidate. */
import { createHash } from 'node:crypto';
import { signalTone } from '../verify/signalTone.js';
import type { SignalName, SignalValue } from '../verify/signalTypes.js';
import { splitConversation } from './chatMessages.js';
import { DECISION_MEANING, trainable, untrainableExit } from './decisions.js';
import type { DecisionKind, DecisionRecord, TaskRecord, TaskStatus } from './storeTypes.js';

/** A candidate's label; `weak` when it came from the verifier instead of the user. */
export interface Label {
  candidateId: string;
  accepted: boolean;
  weak: boolean;
  /** The candidate's patch up to what the agreement signal ignores (see `TaskSummary`); pairs need two. */
  patch?: string;
}

/** Weak labels: candidates without a decision whose verifier score is at least this sure either way. */
export interface WeakLabelOptions {
  /** In (0.5, 1]: a score >= minConfidence is a positive, <= 1 - minConfidence a negative. */
  minConfidence: number;
}

/** What labelling needs to know about a task, small enough to keep for every task of a large store. */
export interface TaskSummary {
  id: string;
  /** How the run ended; cancelled and failed runs give no labels. */
  status: TaskStatus;
  /**
   * `trainable`: the run is, the rollout was not stopped from outside, and the trajectory splits into prompt
   * and turns; `stopped`: the rollout was stopped from outside (decisions.ts); `evidence`: what its own
   * execution says, for weak labels; `patch`: a key equal for candidates whose patches are the same up to
   * whitespace and comments (the agreement signal's cluster, else the whitespace-normalized text).
   */
  candidates: { id: string; trainable: boolean; score?: number; stopped?: true; evidence?: WeakEvidence; patch?: string }[];
}

/**
 * What the candidate's own execution says, which a weak label must not contradict: `fixes` (a test that
 * failed before passes, or every reproduction script does), `unfit` (an empty or invalid patch, or broken
 * tests and nothing fixed).
 */
export interface WeakEvidence {
  fixes?: true;
  unfit?: true;
}

// The learned verifiers give a probability of "resolves the issue"; the LLM judge is preferred when both ran.
const WEAK_SIGNALS: SignalName[] = ['judge', 'local'];

/** The parts of a task record labelling needs. */
export function summarizeTask(task: TaskRecord): TaskSummary {
  const usable = trainable(task.status);
  return {
    id: task.id, status: task.status ?? 'complete',
    candidates: task.candidates.map((c) => {
      const stopped = untrainableExit(c) !== undefined;
      const evidence = weakEvidence(c);
      return { id: c.id, trainable: usable && !stopped && splitConversation(c.messages) !== null, score: verifierScore(c.signals),
        ...(stopped ? { stopped: true as const } : {}), ...(evidence.fixes || evidence.unfit ? { evidence } : {}), patch: patchKey(c) };
    }),
  };
}

function patchKey(c: TaskRecord['candidates'][number]): string {
  const agreement = c.signals.agreement;
  const cluster = agreement?.status === 'ok' && Array.isArray(agreement.data?.cluster) ? (agreement.data.cluster as unknown[]).map(String).sort() : undefined;
  const key = cluster ? `cluster\0${cluster.join('\0')}` : `text\0${c.patch.replace(/\s+/g, ' ').trim()}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function weakEvidence(c: TaskRecord['candidates'][number]): WeakEvidence {
  const { validity, regression, reproduction } = c.signals;
  const count = (key: string) => (regression?.status === 'ok' ? ((regression.data?.[key] as unknown[] | undefined)?.length ?? 0) : 0);
  const fixes = count('fixed') > 0 || (reproduction !== undefined && signalTone('reproduction', reproduction) === 'good');
  // The verifiers' own scores are not evidence here: a judge sure of a patch must not vouch for itself.
  const unfit = (validity?.status === 'ok' && validity.score === 0) || (count('broken') > 0 && !fixes);
  return { ...(fixes ? { fixes: true as const } : {}), ...(unfit ? { unfit: true as const } : {}) };
}

/** The judge's (else the local verifier's) score when it was measured and is a probability. */
export function verifierScore(signals: Partial<Record<SignalName, SignalValue>> | undefined): number | undefined {
  for (const name of WEAK_SIGNALS) {
    const value = signals?.[name];
    if (value?.status === 'ok' && value.score >= 0 && value.score <= 1) return value.score;
  }
  return undefined;
}

/**
 * The latest decision per task and candidate, in file order (the order the lock gave the writers; clocks of
 * two processes may disagree, the file cannot).
 */
export function latestDecisions(decisions: readonly DecisionRecord[]): Map<string, Map<string, DecisionKind>> {
  const byTask = new Map<string, Map<string, DecisionKind>>();
  for (const d of decisions) {
    const task = byTask.get(d.taskId) ?? new Map<string, DecisionKind>();
    task.set(d.candidateId, d.decision);
    byTask.set(d.taskId, task);
  }
  return byTask;
}

/**
 * Labels of a task's trainable candidates, from the latest decision about each (decisions.ts): accepted
 * (applied, kept), rejected (rejected); a candidate replaced, undone or reverted has no label. Candidates
 * without a decision are unlabelled, unless weak labels are on, the verifier is confident, and the
 * candidate's own execution does not say otherwise (WeakEvidence), and the user decided on no candidate with
 * the same patch (the user's word on a patch is not second-guessed through its twin).
 */
export function labelTask(task: TaskSummary, decisions: Map<string, DecisionKind> | undefined, weak?: WeakLabelOptions): Label[] {
  const labels: Label[] = [];
  const meaningOf = (id: string) => {
    const decision = decisions?.get(id);
    return decision ? DECISION_MEANING[decision] : undefined;
  };
  const decided = new Set(task.candidates.filter((c) => c.trainable && ['accepted', 'rejected'].includes(meaningOf(c.id) ?? '')).map((c) => c.patch));
  for (const c of task.candidates) {
    if (!c.trainable) continue;
    const meaning = meaningOf(c.id);
    const patch = c.patch === undefined ? {} : { patch: c.patch };
    if (meaning === 'accepted' || meaning === 'rejected') {
      labels.push({ candidateId: c.id, accepted: meaning === 'accepted', weak: false, ...patch });
    } else if (decisions?.get(c.id) || decided.has(c.patch)) {
      continue;
    } else if (weak && c.score !== undefined) {
      // A verifier's score never overrules the candidate's own tests: no weak positive for an unfit one, no
      // weak negative for one whose tests show it fixing something.
      if (c.score >= weak.minConfidence && !c.evidence?.unfit) labels.push({ candidateId: c.id, accepted: true, weak: true, ...patch });
      else if (c.score <= 1 - weak.minConfidence && !c.evidence?.fixes) labels.push({ candidateId: c.id, accepted: false, weak: true, ...patch });
    }
  }
  return labels;
}

/**
 * Accepted x rejected pairs of a task's labels; a pair is weak when either side is. Two candidates with the
 * same patch (up to whitespace and comments) make no pair: their outcome is the same code, so the pair would
 * teach only how the two trajectories differ in wording.
 */
export function preferencePairs(labels: readonly Label[]): { chosen: Label; rejected: Label; weak: boolean }[] {
  const accepted = labels.filter((l) => l.accepted);
  const rejected = labels.filter((l) => !l.accepted);
  return accepted.flatMap((chosen) => rejected.filter((r) => r.patch === undefined || r.patch !== chosen.patch)
    .map((r) => ({ chosen, rejected: r, weak: chosen.weak || r.weak })));
}
