/** Exports the store's labelled trajectories as JSON lines in one training format. */
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { exportTaskLines, type ExportFormat, EXPORT_FORMATS } from './exportLines.js';
import { forEachLabelledTask, type LabelledScan } from './labelledTasks.js';
import type { WeakLabelOptions } from './labels.js';
import type { PreferenceStore } from './preferenceStore.js';
import { writeAtomically } from './writeAtomically.js';

/** Options of `exportPreferences`. */
export interface ExportOptions {
  format: ExportFormat;
  /** The JSONL file to write; replaced atomically, so a failed export never leaves half a file, and left as it was when nothing is exported. */
  out: string;
  /** Also label candidates the user did not decide on, from confident verifier scores (`weak_label: true`). */
  weakLabels?: WeakLabelOptions;
}

/** What an export wrote, and (from the scan) what it could not use. */
export interface ExportSummary extends LabelledScan {
  format: ExportFormat;
  out: string;
  lines: number;
  /** Lines whose label (or one side of whose pair) came from the verifier. */
  weakLines: number;
  /** Tasks that contributed at least one line. */
  tasks: number;
  /** False when there was nothing to export: `out` is then as it was (an empty file would read as "no data" in place of an earlier export). */
  written: boolean;
}

/** Writes the labelled tasks' lines in one format; see `forEachLabelledTask` for how the store is read. */
export async function exportPreferences(store: PreferenceStore, options: ExportOptions): Promise<ExportSummary> {
  validate(options);
  const out = path.resolve(options.out);
  const counts = { lines: 0, weakLines: 0, tasks: 0 };
  const exportedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  let scan: LabelledScan | undefined;
  const written = await writeAtomically(out, async (write) => {
    scan = await forEachLabelledTask(store, options.weakLabels, async (task, labels) => {
      const entries = exportTaskLines(task, labels, options.format, exportedAt);
      if (entries.length > 0) counts.tasks += 1;
      for (const { line, weak } of entries) {
        await write(`${JSON.stringify(line)}\n`);
        counts.lines += 1;
        if (weak) counts.weakLines += 1;
      }
    });
    return counts.lines > 0;
  });
  return { format: options.format, out, ...counts, ...scan!, written };
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
