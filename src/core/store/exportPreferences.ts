/** Exports the store's labelled trajectories as JSON lines in one training format. */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import { AgentError, ErrorReason } from '../errors.js';
import { exportTaskLines, type ExportFormat, EXPORT_FORMATS } from './exportLines.js';
import { labelTask, latestDecisions, summarizeTask, type TaskSummary, type WeakLabelOptions } from './labels.js';
import type { PreferenceStore } from './preferenceStore.js';
import { readRecordAt, type RecordLocation } from './scanStore.js';
import type { DecisionRecord, SkippedLine } from './storeTypes.js';

/** Options of `exportPreferences`. */
export interface ExportOptions {
  format: ExportFormat;
  /** The JSONL file to write; replaced atomically, so a failed export never leaves half a file. */
  out: string;
  /** Also label candidates the user did not decide on, from confident verifier scores (`weak_label: true`). */
  weakLabels?: WeakLabelOptions;
}

/** What an export wrote and what it could not use. */
export interface ExportSummary {
  format: ExportFormat;
  out: string;
  lines: number;
  /** Lines whose label (or one side of whose pair) came from the verifier. */
  weakLines: number;
  /** Tasks that contributed at least one line. */
  tasks: number;
  /** Decisions naming a task or candidate the store does not hold (e.g. its task line was torn). */
  orphanDecisions: number;
  torn: number;
  skipped: SkippedLine[];
}

/**
 * Two passes keep memory small on a store of gigabytes: the first reads every record but keeps only
 * decisions, a summary per task and where its line lies; the second rereads just the tasks that have labels.
 */
export async function exportPreferences(store: PreferenceStore, options: ExportOptions): Promise<ExportSummary> {
  validate(options);
  const located = new Map<string, { at: RecordLocation; summary: TaskSummary }>();
  const decisions: DecisionRecord[] = [];
  const scan = await store.scan((record, at) => {
    if (record.kind === 'decision') decisions.push(record);
    else located.set(record.id, { at, summary: summarizeTask(record) });
  });
  const latest = latestDecisions(decisions);
  const orphanDecisions = decisions.filter((d) => !located.get(d.taskId)?.summary.candidates.some((c) => c.id === d.candidateId)).length;
  const summary: ExportSummary = { format: options.format, out: path.resolve(options.out), lines: 0, weakLines: 0, tasks: 0,
    orphanDecisions, torn: scan.torn, skipped: scan.skipped };
  const exportedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await writeAtomically(summary.out, async (write) => {
    for (const [id, entry] of located) {
      const labels = labelTask(entry.summary, latest.get(id), options.weakLabels);
      if (labels.length === 0) continue;
      const task = await readRecordAt(entry.at);
      if (task?.kind !== 'task') continue;
      const entries = exportTaskLines(task, labels, options.format, exportedAt);
      if (entries.length > 0) summary.tasks += 1;
      for (const { line, weak } of entries) {
        await write(`${JSON.stringify(line)}\n`);
        summary.lines += 1;
        if (weak) summary.weakLines += 1;
      }
    }
  });
  return summary;
}

function validate(options: ExportOptions): void {
  if (!EXPORT_FORMATS.includes(options.format)) {
    throw new AgentError(ErrorReason.InvalidArgument, `Unknown export format "${options.format}"; use one of ${EXPORT_FORMATS.join(', ')}.`);
  }
  const t = options.weakLabels?.minConfidence;
  if (t !== undefined && !(t > 0.5 && t <= 1)) {
    throw new AgentError(ErrorReason.InvalidArgument, `The weak-label confidence must be above 0.5 and at most 1, got ${t}.`);
  }
}

async function writeAtomically(file: string, body: (write: (text: string) => Promise<void>) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const stream = createWriteStream(temp);
  const write = async (text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  try {
    await body(write);
    stream.end();
    await once(stream, 'finish');
    await rename(temp, file);
  } catch (error) {
    stream.destroy();
    await rm(temp, { force: true });
    throw new AgentError(ErrorReason.Io, `Cannot write the export ${file}: ${(error as Error).message}`, { cause: error });
  }
}
