/** Turns decisions (and, if asked, confident verifier scores) into accepted/rejected labels per candidate. */
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
   * execution says, for weak labels.
   */
  candidates: { id: string; trainable: boolean; score?: number; stopped?: true; evidence?: WeakEvidence }[];
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
        ...(stopped ? { stopped: true as const } : {}), ...(evidence.fixes || evidence.unfit ? { evidence } : {}) };
    }),
  };
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
 * candidate's own execution does not say otherwise (WeakEvidence).
 */
export function labelTask(task: TaskSummary, decisions: Map<string, DecisionKind> | undefined, weak?: WeakLabelOptions): Label[] {
  const labels: Label[] = [];
  for (const c of task.candidates) {
    if (!c.trainable) continue;
    const decision = decisions?.get(c.id);
    const meaning = decision ? DECISION_MEANING[decision] : undefined;
    if (meaning === 'accepted' || meaning === 'rejected') {
      labels.push({ candidateId: c.id, accepted: meaning === 'accepted', weak: false });
    } else if (decision) {
      continue;
    } else if (weak && c.score !== undefined) {
      // A verifier's score never overrules the candidate's own tests: no weak positive for an unfit one, no
      // weak negative for one whose tests show it fixing something.
      if (c.score >= weak.minConfidence && !c.evidence?.unfit) labels.push({ candidateId: c.id, accepted: true, weak: true });
      else if (c.score <= 1 - weak.minConfidence && !c.evidence?.fixes) labels.push({ candidateId: c.id, accepted: false, weak: true });
    }
  }
  return labels;
}

/** Accepted x rejected pairs of a task's labels; a pair is weak when either side is. */
export function preferencePairs(labels: readonly Label[]): { chosen: Label; rejected: Label; weak: boolean }[] {
  const accepted = labels.filter((l) => l.accepted);
  const rejected = labels.filter((l) => !l.accepted);
  return accepted.flatMap((chosen) => rejected.map((r) => ({ chosen, rejected: r, weak: chosen.weak || r.weak })));
}
