import { labelTask, latestDecisions, summarizeTask, type Label, type TaskSummary, type WeakLabelOptions } from './labels.js';
import type { PreferenceStore } from './preferenceStore.js';
import { readRecordAt, type RecordLocation } from './scanStore.js';
import type { DecisionRecord, SkippedLine, TaskRecord } from './storeTypes.js';

/** What a pass over the store's labelled tasks could not use. */
export interface LabelledScan {
  /** Decisions naming a task or candidate the store does not hold (e.g. its task line was torn). */
  orphanDecisions: number;
  /** The other decisions, whether or not they give a label (a candidate taken back, or replaced, gives none). */
  decisions: number;
  torn: number;
  skipped: SkippedLine[];
}

/**
 * Visits every task that has labels, with them, one task in memory at a time. Two passes keep memory small
 * on a store of gigabytes: the first reads every record but keeps only decisions, a summary per task and
 * where its line lies; the second rereads just the tasks that have labels.
 */
export async function forEachLabelledTask(store: PreferenceStore, weak: WeakLabelOptions | undefined,
  visit: (task: TaskRecord, labels: Label[]) => Promise<void>): Promise<LabelledScan> {
  const located = new Map<string, { at: RecordLocation; summary: TaskSummary }>();
  const decisions: DecisionRecord[] = [];
  const scan = await store.scan((record, at) => {
    if (record.kind === 'decision') decisions.push(record);
    else located.set(record.id, { at, summary: summarizeTask(record) });
  });
  const latest = latestDecisions(decisions);
  const orphanDecisions = decisions.filter((d) => !located.get(d.taskId)?.summary.candidates.some((c) => c.id === d.candidateId)).length;
  for (const [id, entry] of located) {
    const labels = labelTask(entry.summary, latest.get(id), weak);
    if (labels.length === 0) continue;
    const task = await readRecordAt(entry.at);
    if (task?.kind === 'task') await visit(task, labels);
  }
  return { orphanDecisions, decisions: decisions.length - orphanDecisions, torn: scan.torn, skipped: scan.skipped };
}
