import * as path from 'node:path';
import * as vscode from 'vscode';
import { changedSinceSnapshot } from '../core/worktree/candidateTree.js';
import { changedFiles } from '../core/worktree/patch.js';
import type { RunFiles } from './candidateDocuments.js';

/** An applied candidate being watched. */
interface Applied {
  /** `runId/candidateId`, the entry's key in the watch list. */
  key: string;
  run: RunFiles & { runId: string };
  candidateId: string;
  /** The files the candidate changed, relative to the workspace folder and absolute. */
  files: string[];
  absolute: Set<string>;
  timer?: NodeJS.Timeout;
}

/** How long file events settle before the check: a checkout or a multi-file undo writes several files. */
const SETTLE_MS = 300;

/**
 * Notices when the user takes an applied candidate back: once every file the candidate changed is again as
 * it was in the snapshot (undo and save, a discard in Source Control, `git checkout`), `onReverted` runs
 * once and the candidate is no longer watched. Editing an applied candidate further is not a revert.
 */
export class RevertWatcher implements vscode.Disposable {
  private readonly applied = new Map<string, Applied>();
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/*');
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly onReverted: (run: Applied['run'], candidateId: string) => Promise<void>,
    private readonly log: vscode.LogOutputChannel) {
    const onEvent = (uri: vscode.Uri) => {
      for (const entry of this.applied.values()) if (entry.absolute.has(uri.fsPath)) this.schedule(entry);
    };
    this.subscriptions = [this.watcher, this.watcher.onDidChange(onEvent), this.watcher.onDidCreate(onEvent), this.watcher.onDidDelete(onEvent)];
  }

  /** Watches an applied candidate, and checks it at once (it may have been reverted while nobody watched). */
  watch(run: Applied['run'], candidateId: string): void {
    const key = `${run.runId}/${candidateId}`;
    const files = changedFiles(run.patches.get(candidateId) ?? '');
    if (this.applied.has(key) || files.length === 0) return;
    const entry: Applied = { key, run, candidateId, files, absolute: new Set(files.map((f) => path.join(run.root, f))) };
    this.applied.set(key, entry);
    this.schedule(entry);
  }

  dispose(): void {
    for (const entry of this.applied.values()) clearTimeout(entry.timer);
    this.applied.clear();
    for (const s of this.subscriptions) s.dispose();
  }

  private schedule(entry: Applied): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void this.check(entry), SETTLE_MS);
  }

  private async check(entry: Applied): Promise<void> {
    try {
      const changed = await changedSinceSnapshot(entry.run.root, entry.run.snapshotCommit, entry.files);
      // A second check may have finished first; only the one that removes the entry reports.
      if (changed.length > 0 || this.applied.get(entry.key) !== entry) return;
      this.applied.delete(entry.key);
      await this.onReverted(entry.run, entry.candidateId);
    } catch (error) {
      this.log.warn(`could not check whether ${entry.candidateId} was reverted: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
