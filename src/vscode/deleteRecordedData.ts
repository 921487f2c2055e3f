import * as vscode from 'vscode';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { totalDecisions } from '../core/store/storeStats.js';

/** What Delete Recorded Data removed. */
export interface DeleteOutcome {
  dir: string;
  tasks: number;
  decisions: number;
  files: number;
}

/**
 * Delete Recorded Data for This Workspace: says how many tasks and decisions will go, asks in a modal
 * dialog (unless `argument` is `{confirm: true}`), then deletes the store's own files. Returns undefined
 * when the user backs out.
 */
export async function deleteRecordedData(storeDir: string, log: vscode.LogOutputChannel, argument?: unknown): Promise<DeleteOutcome | undefined> {
  const store = PreferenceStore.open(storeDir);
  const stats = await store.stats();
  const decisions = totalDecisions(stats.decisions);
  const lines = stats.skipped.length;
  if (stats.tasks === 0 && decisions === 0 && lines === 0) {
    void vscode.window.showInformationMessage(`EntroPO: nothing is recorded for this workspace (${store.dir}).`);
    return { dir: store.dir, tasks: 0, decisions: 0, files: 0 };
  }
  const confirmed = (argument as { confirm?: unknown } | undefined)?.confirm === true || await ask(store.dir, stats.tasks, decisions, lines);
  if (!confirmed) return undefined;
  const { files } = await store.deleteAll();
  log.info(`deleted ${stats.tasks} task(s) and ${decisions} decision(s) (${files} file(s)) from ${store.dir}`);
  void vscode.window.showInformationMessage(`EntroPO: deleted ${count(stats.tasks, 'task')} and ${count(decisions, 'decision')} recorded for this workspace. `
    + 'Past runs stay in the Runs view; what you decide about their candidates is no longer recorded.');
  return { dir: store.dir, tasks: stats.tasks, decisions, files };
}

async function ask(dir: string, tasks: number, decisions: number, unreadable: number): Promise<boolean> {
  const extra = unreadable > 0 ? ` and ${count(unreadable, 'unreadable line')}` : '';
  const choice = await vscode.window.showWarningMessage(`Delete ${count(tasks, 'task')} and ${count(decisions, 'decision')}${extra} recorded for this workspace?`, {
    modal: true,
    detail: `Every trajectory, candidate patch and decision in ${dir} goes, and cannot be restored. Export them first if you may want to train on them.`,
  }, 'Delete');
  return choice === 'Delete';
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
