/** Counts what a store holds and what an export would produce from it, in one streaming pass. */
import { labelTask, latestDecisions, preferencePairs, summarizeTask, type TaskSummary, type WeakLabelOptions } from './labels.js';
import type { RecordLocation, ScanResult } from './scanStore.js';
import { DECISION_MEANING } from './decisions.js';
import { DECISION_KINDS, type DecisionKind, type DecisionRecord, type SkippedLine, type StoreRecord } from './storeTypes.js';

/** What the counts read: the store's folder and one pass over its records. */
export interface StoreReader {
  readonly dir: string;
  scan(visit: (record: StoreRecord, at: RecordLocation) => void): Promise<ScanResult>;
}

/** The store's counts. */
export interface StoreStats {
  dir: string;
  tasks: number;
  candidates: number;
  decisions: Record<DecisionKind, number>;
  /** Candidates whose latest decision accepts / rejects them (decisions.ts); replaced, undone and reverted count in neither. */
  accepted: number;
  rejected: number;
  /** What `export` would write with the same weak-label setting. */
  exportable: { dpoPairs: number; ktoExamples: number; weakDpoPairs: number; weakKtoExamples: number };
  /** Tasks kept out of the training data because their run was cancelled or failed. */
  excludedTasks: { cancelled: number; failed: number };
  /** Candidates of the other runs kept out because their rollout was stopped from outside (a failure, a cancel). */
  excludedCandidates: number;
  /** Decisions naming a task or candidate the store does not hold. */
  orphanDecisions: number;
  torn: number;
  skipped: SkippedLine[];
}

/** Reads the whole store once and counts tasks, candidates, decisions, exportable lines and refused lines. */
export async function storeStats(store: StoreReader, weakLabels?: WeakLabelOptions): Promise<StoreStats> {
  const summaries: TaskSummary[] = [];
  const decisions: DecisionRecord[] = [];
  const scan = await store.scan((record) => {
    if (record.kind === 'task') summaries.push(summarizeTask(record));
    else decisions.push(record);
  });
  const stats: StoreStats = {
    dir: store.dir, tasks: summaries.length, candidates: 0, decisions: Object.fromEntries(DECISION_KINDS.map((k) => [k, 0])) as Record<DecisionKind, number>,
    accepted: 0, rejected: 0, exportable: { dpoPairs: 0, ktoExamples: 0, weakDpoPairs: 0, weakKtoExamples: 0 },
    excludedTasks: { cancelled: 0, failed: 0 }, excludedCandidates: 0, orphanDecisions: 0, torn: scan.torn, skipped: scan.skipped,
  };
  for (const d of decisions) stats.decisions[d.decision] += 1;
  const latest = latestDecisions(decisions);
  const known = new Map(summaries.map((s) => [s.id, new Set(s.candidates.map((c) => c.id))]));
  stats.orphanDecisions = decisions.filter((d) => !known.get(d.taskId)?.has(d.candidateId)).length;
  for (const summary of summaries) {
    stats.candidates += summary.candidates.length;
    if (summary.status !== 'complete') stats.excludedTasks[summary.status] += 1;
    for (const c of summary.candidates) {
      if (c.stopped && summary.status === 'complete') stats.excludedCandidates += 1;
      const kind = latest.get(summary.id)?.get(c.id);
      const meaning = kind ? DECISION_MEANING[kind] : undefined;
      if (meaning === 'accepted') stats.accepted += 1;
      else if (meaning === 'rejected') stats.rejected += 1;
    }
    const labels = labelTask(summary, latest.get(summary.id), weakLabels);
    const pairs = preferencePairs(labels);
    stats.exportable.dpoPairs += pairs.length;
    stats.exportable.ktoExamples += labels.length;
    stats.exportable.weakDpoPairs += pairs.filter((p) => p.weak).length;
    stats.exportable.weakKtoExamples += labels.filter((l) => l.weak).length;
  }
  return stats;
}

/** How many decisions of every kind together. */
export function totalDecisions(decisions: StoreStats['decisions']): number {
  return Object.values(decisions).reduce((a, b) => a + b, 0);
}
