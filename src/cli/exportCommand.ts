import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { EXPORT_FORMATS, isPairFormat, type ExportFormat } from '../core/store/exportLines.js';
import { exportPreferences } from '../core/store/exportPreferences.js';
import { exportVerifierFeatures, VERIFIER_FEATURES_FORMAT } from '../core/store/exportVerifierFeatures.js';
import type { LabelledScan } from '../core/store/labelledTasks.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { numberFlag, parseFlags } from './options.js';
import { missingStore, storeDirFromFlags } from './storeFlag.js';
import { UsageError } from './usageError.js';

const USAGE = `Usage: entropo export --format FORMAT --out FILE [--store DIR | --repo DIR] [--weak-labels T]

Writes the recorded accept/reject decisions as JSON lines for training. FORMAT is one of:
  entropo-dpo   preference pairs {prompt, chosen, rejected} with provenance (for the EntroPO trainer)
  entropo-kto   labelled trajectories {prompt, completion, label} with provenance
  trl-dpo       Hugging Face TRL conversational preference pairs (with tools)
  trl-kto       Hugging Face TRL conversational unpaired examples (with tools)
  verifier-features
                labelled feature rows of every decided candidate, to retrain the local verifier
                (trainer/verifier/train.py; models/local-verifier/README.md)
Pairs are every accepted x rejected candidate of a task; accepted means applied (or kept after a commit) as the latest decision, rejected means rejected; a candidate replaced by another, undone or reverted has no label, and cancelled or failed runs are never exported.`;

const FORMATS = [...EXPORT_FORMATS, VERIFIER_FEATURES_FORMAT];

const FLAGS = {
  format: { type: 'string', value: 'FORMAT', help: `One of ${FORMATS.join(', ')}.` },
  out: { type: 'string', value: 'FILE', help: 'The JSONL file to write (replaced whole).' },
  store: { type: 'string', value: 'DIR', help: 'Preference store (default: ~/.local/state/entropo/store/<repo hash>).' },
  repo: { type: 'string', value: 'DIR', help: 'Repository whose default store to read (default: the current directory).' },
  'weak-labels': { type: 'string', value: 'T', help: 'Also label undecided candidates whose verifier score is >= T (positive) or <= 1-T (negative); T in (0.5, 1].' },
} as const;

/** `entropo export`: the store's labelled trajectories in one training format. */
export async function exportCommand(argv: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr }): Promise<number> {
  const flags = parseFlags(argv, USAGE, FLAGS);
  if (!flags) return 0;
  const format = String(flags.format ?? '');
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}".`);
  if (typeof flags.out !== 'string' || flags.out === '') throw new UsageError('--out FILE is required.');
  // Checked before the store is read, which can take a while on a large one, and found out only at the end.
  if (existsSync(flags.out) && statSync(flags.out).isDirectory()) throw new UsageError(`--out ${path.resolve(flags.out)} is a folder; give the file to write.`);
  const weak = numberFlag(flags['weak-labels'], 'weak-labels', undefined, 0.5, 1);
  if (weak === 0.5) throw new UsageError('--weak-labels must be above 0.5 (0.5 would label every scored candidate).');
  if (weak !== undefined && format === VERIFIER_FEATURES_FORMAT) throw new UsageError('--weak-labels does not apply to verifier-features: the verifier learns from your decisions only.');
  const store = PreferenceStore.open(storeDirFromFlags(flags));
  // Said, and --out left as it is: an empty file in place of an earlier export would read as "no data".
  const missing = missingStore(store.dir);
  if (missing) {
    io.err.write(`entropo: nothing exported: ${missing}\n`);
    return 1;
  }
  if (format === VERIFIER_FEATURES_FORMAT) {
    const summary = await exportVerifierFeatures(store, flags.out);
    reportScan(summary, io.err);
    if (!summary.written) return nothingToExport(io.err, noLabel(summary), summary.out);
    io.out.write(`Wrote ${summary.rows} labelled candidates (${summary.positives} accepted) from ${summary.tasks} task(s) of ${store.dir} to ${summary.out}\n`);
    return 0;
  }
  const summary = await exportPreferences(store, { format: format as ExportFormat, out: flags.out, weakLabels: weak === undefined ? undefined : { minConfidence: weak } });
  const noun = isPairFormat(summary.format) ? 'preference pairs' : 'labelled trajectories';
  reportScan(summary, io.err);
  if (!summary.written) {
    return nothingToExport(io.err, isPairFormat(summary.format) ? 'a pair needs a task with an accepted and a rejected candidate whose patches differ' : noLabel(summary), summary.out);
  }
  io.out.write(`Wrote ${summary.lines} ${noun} (${summary.weakLines} weakly labelled) from ${summary.tasks} task(s) of ${store.dir} to ${summary.out}\n`);
  return 0;
}

// Why no candidate is labelled: no decision at all, or decisions that carry no label.
function noLabel(scan: LabelledScan): string {
  if (scan.decisions === 0) return 'no candidate has a decision yet';
  return `none of the ${scan.decisions} recorded decision(s) gives a label (a candidate taken back after it was applied, or replaced by another, `
    + 'is neither accepted nor rejected, and nothing of a cancelled or failed run, or of a rollout stopped from outside, is for training)';
}

// An empty file in place of an earlier export would read as "no data": the file is left as it was.
function nothingToExport(err: NodeJS.WritableStream, why: string, out: string): number {
  err.write(`entropo: nothing to export: ${why} (decisions are recorded by the extension's review panel and by \`entropo apply\` / \`entropo reject\`); ${out} was left as it was\n`);
  return 1;
}

/** What the store held that the export could not use. */
function reportScan(scan: LabelledScan, err: NodeJS.WritableStream): void {
  if (scan.skipped.length > 0) {
    err.write(`entropo: skipped ${scan.skipped.length} unreadable line(s) of the store (${scan.torn} torn by a crash); \`entropo stats\` lists them\n`);
  }
  if (scan.orphanDecisions > 0) err.write(`entropo: ${scan.orphanDecisions} decision(s) name a task or candidate the store does not hold\n`);
}
