import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AgentError, ErrorReason } from '../core/errors.js';
import { EXPORT_FORMATS, isPairFormat, type ExportFormat } from '../core/store/exportLines.js';
import { exportPreferences, type ExportSummary } from '../core/store/exportPreferences.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import type { StoreStats } from '../core/store/storeStats.js';

/** Arguments of `entropo.exportPreferences` that skip every prompt (for keybindings, scripts and tests). */
export interface ExportArgs {
  format: ExportFormat;
  out: string;
  /** Weak-label confidence in (0.5, 1]; absent: only the user's decisions label candidates. */
  weakLabels?: number;
}

const FORMAT_HELP: Record<ExportFormat, { description: string; count: (s: StoreStats) => string }> = {
  'entropo-dpo': { description: 'preference pairs {prompt, chosen, rejected}, for the EntroPO trainer', count: (s) => `${s.exportable.dpoPairs} pair(s) from your decisions` },
  'entropo-kto': { description: 'labelled trajectories {prompt, completion, label}, for the EntroPO trainer', count: (s) => `${s.exportable.ktoExamples} example(s) from your decisions` },
  'trl-dpo': { description: 'Hugging Face TRL conversational preference pairs, with tools', count: (s) => `${s.exportable.dpoPairs} pair(s) from your decisions` },
  'trl-kto': { description: 'Hugging Face TRL conversational unpaired examples, with tools', count: (s) => `${s.exportable.ktoExamples} example(s) from your decisions` },
};

/**
 * Export Preference Data...: asks for the format, weak labels and the output file (or takes them from
 * `argument`), writes the store's labelled trajectories, and offers to open the file or train on it.
 */
export async function exportPreferenceData(storeDir: string, log: vscode.LogOutputChannel, argument?: unknown): Promise<ExportSummary | undefined> {
  const store = PreferenceStore.open(storeDir);
  const args = parseArgs(argument) ?? await askArgs(store);
  if (!args) return undefined;
  const summary = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `EntroPO: exporting ${args.format} data...` },
    () => exportPreferences(store, { format: args.format, out: args.out, weakLabels: args.weakLabels === undefined ? undefined : { minConfidence: args.weakLabels } }));
  log.info(`exported ${summary.lines} line(s) (${summary.weakLines} weak) of ${summary.tasks} task(s) as ${summary.format} to ${summary.out}`);
  void report(summary);
  return summary;
}

/** The training method that reads a format's lines best. */
export function methodFor(format: ExportFormat): 'entropo-dpo' | 'entropo-kto' {
  return isPairFormat(format) ? 'entropo-dpo' : 'entropo-kto';
}

function parseArgs(argument: unknown): ExportArgs | undefined {
  if (!argument || typeof argument !== 'object' || argument instanceof vscode.Uri) return undefined;
  const { format, out, weakLabels } = argument as Partial<ExportArgs>;
  if (!EXPORT_FORMATS.includes(format as ExportFormat) || typeof out !== 'string' || out === '') {
    throw new AgentError(ErrorReason.InvalidArgument, `Export arguments are {format: ${EXPORT_FORMATS.join(' | ')}, out: FILE, weakLabels?: number}.`);
  }
  return { format: format as ExportFormat, out: path.resolve(out), ...(typeof weakLabels === 'number' ? { weakLabels } : {}) };
}

async function askArgs(store: PreferenceStore): Promise<ExportArgs | undefined> {
  const stats = await store.stats();
  if (stats.tasks === 0) {
    void vscode.window.showInformationMessage('EntroPO: nothing is recorded for this workspace yet. Run "Fix Issue...", then apply or reject candidates.');
    return undefined;
  }
  const format = await vscode.window.showQuickPick(EXPORT_FORMATS.map((id) => ({ label: id, description: FORMAT_HELP[id].description, detail: FORMAT_HELP[id].count(stats), id })),
    { title: 'EntroPO: Export Preference Data (1/3)', placeHolder: `Format (${stats.tasks} task(s), ${stats.accepted} accepted and ${stats.rejected} rejected candidate(s))` });
  if (!format) return undefined;
  const weak = await vscode.window.showQuickPick([
    { label: 'Your decisions only', description: 'candidates you applied or rejected', value: undefined },
    ...[0.9, 0.8, 0.7].map((t) => ({ label: `Also verifier ≥ ${t}`, value: t,
      description: `label undecided candidates scored ≥ ${t} as accepted and ≤ ${Number((1 - t).toFixed(2))} as rejected (weak_label)` })),
  ], { title: 'EntroPO: Export Preference Data (2/3)', placeHolder: 'Weak labels from the verifier' });
  if (!weak) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const target = await vscode.window.showSaveDialog({ title: 'EntroPO: Export Preference Data (3/3)', saveLabel: 'Export',
    defaultUri: vscode.Uri.joinPath(folder, `entropo-${format.id}.jsonl`), filters: { 'JSON Lines': ['jsonl'] } });
  if (!target) return undefined;
  return { format: format.id, out: target.fsPath, ...(weak.value === undefined ? {} : { weakLabels: weak.value }) };
}

async function report(summary: ExportSummary): Promise<void> {
  const pairs = isPairFormat(summary.format);
  const skipped = summary.skipped.length > 0 ? ` ${summary.skipped.length} unreadable line(s) of the store were skipped (${summary.torn} torn by a crash).` : '';
  if (summary.lines === 0) {
    const why = pairs ? 'a pair needs a task with an applied and a rejected candidate whose patches differ' : 'no candidate has a decision yet';
    void vscode.window.showWarningMessage(`EntroPO: nothing to export as ${summary.format}: ${why}; ${path.basename(summary.out)} was not written.${skipped}`);
    return;
  }
  const noun = pairs ? (summary.lines === 1 ? 'preference pair' : 'preference pairs') : (summary.lines === 1 ? 'labelled trajectory' : 'labelled trajectories');
  const weak = summary.weakLines > 0 ? ` (${summary.weakLines} weakly labelled)` : '';
  const choice = await vscode.window.showInformationMessage(
    `EntroPO: wrote ${summary.lines} ${noun}${weak} from ${summary.tasks} task(s) to ${path.basename(summary.out)}.${skipped}`, 'Open File', 'Train on This Data');
  if (choice === 'Open File') await vscode.window.showTextDocument(vscode.Uri.file(summary.out), { preview: true });
  if (choice === 'Train on This Data') await vscode.commands.executeCommand('entropo.train', { data: summary.out, method: methodFor(summary.format) });
}
