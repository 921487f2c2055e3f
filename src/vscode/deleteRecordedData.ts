import { readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { totalDecisions } from '../core/store/storeStats.js';
import { trainDataDir, unattributedExports } from './trainData.js';

/** What Delete Recorded Data removed. */
export interface DeleteOutcome {
  dir: string;
  tasks: number;
  decisions: number;
  files: number;
  /** Training data Fine-Tune had exported from this store. */
  exports: number;
}

/**
 * Delete Recorded Data for This Workspace: says how many tasks and decisions will go, asks in a modal
 * dialog (unless `argument` is `{confirm: true}`), then deletes the store's own files and the copies of them
 * that Fine-Tune exported into the extension's global storage. Returns undefined when the user backs out.
 */
export async function deleteRecordedData(storeDir: string, globalStorageDir: string, log: vscode.LogOutputChannel, argument?: unknown): Promise<DeleteOutcome | undefined> {
  const exportsDir = trainDataDir(globalStorageDir, storeDir);
  const older = unattributedExports(globalStorageDir).length;
  const store = PreferenceStore.open(storeDir);
  const stats = await store.stats();
  const decisions = totalDecisions(stats.decisions);
  const lines = stats.skipped.length;
  const exports = await readdir(exportsDir).catch(() => [] as string[]);
  if (stats.tasks === 0 && decisions === 0 && lines === 0 && exports.length === 0) {
    void vscode.window.showInformationMessage(`EntroPO: nothing is recorded for this workspace (${store.dir}).${olderNote(older, globalStorageDir)}`);
    return { dir: store.dir, tasks: 0, decisions: 0, files: 0, exports: 0 };
  }
  const confirmed = (argument as { confirm?: unknown } | undefined)?.confirm === true
    || await ask(store.dir, globalStorageDir, { tasks: stats.tasks, decisions, unreadable: lines, exports: exports.length, older });
  if (!confirmed) return undefined;
  const { files } = await store.deleteAll();
  await rm(exportsDir, { recursive: true, force: true });
  log.info(`deleted ${stats.tasks} task(s) and ${decisions} decision(s) (${files} file(s)) from ${store.dir}, and ${exports.length} training export(s) from ${exportsDir}`);
  const copies = exports.length > 0 ? `, and ${count(exports.length, 'training data file')} Fine-Tune exported from them` : '';
  void vscode.window.showInformationMessage(`EntroPO: deleted ${count(stats.tasks, 'task')} and ${count(decisions, 'decision')} recorded for this workspace${copies}. `
    + `Past runs stay in the Runs view; what you decide about their candidates is no longer recorded.${olderNote(older, globalStorageDir)}`);
  return { dir: store.dir, tasks: stats.tasks, decisions, files, exports: exports.length };
}

async function ask(dir: string, globalStorageDir: string, n: { tasks: number; decisions: number; unreadable: number; exports: number; older: number }): Promise<boolean> {
  const extra = n.unreadable > 0 ? ` and ${count(n.unreadable, 'unreadable line')}` : '';
  const copies = n.exports > 0 ? `, with the ${count(n.exports, 'training data file')} that Fine-Tune exported from them,` : '';
  const choice = await vscode.window.showWarningMessage(`Delete ${count(n.tasks, 'task')} and ${count(n.decisions, 'decision')}${extra} recorded for this workspace?`, {
    modal: true,
    detail: `Every trajectory, candidate patch and decision in ${dir}${copies} goes, and cannot be restored. Export them first if you may want to train on them.`
      + ` Adapters already trained on them are not deleted (Fine-Tune keeps them in ${path.join(globalStorageDir, 'adapters')} unless you chose another folder).`
      + olderNote(n.older, globalStorageDir),
  }, 'Delete');
  return choice === 'Delete';
}

// Exports of an earlier version, kept for all workspaces together: said, not deleted.
function olderNote(older: number, globalStorageDir: string): string {
  return older === 0 ? '' : ` Older training data (${count(older, 'file')} in ${path.join(globalStorageDir, 'train-data')}, from before it was kept `
    + 'per workspace) is not deleted: delete it there if it came from this workspace.';
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
