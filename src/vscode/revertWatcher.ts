import * as path from 'node:path';
import * as vscode from 'vscode';
import { changedSinceSnapshot, committedAsCandidate } from '../core/worktree/candidateTree.js';
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
 * Notices what becomes of an applied candidate: once every file it changed is again as it was in the
 * snapshot (undo and save, a discard in Source Control, `git checkout`), `onChange(.., 'reverted')` runs;
 * once a commit holds exactly its change, `onChange(.., 'kept')`. Either way it is then no longer watched.
 * Editing an applied candidate further is neither.
 */
export class RevertWatcher implements vscode.Disposable {
  private readonly applied = new Map<string, Applied>();
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/*');
  // A commit moves HEAD and writes its reflog; the working files themselves do not change.
  private readonly commits = vscode.workspace.createFileSystemWatcher('**/.git/logs/HEAD');
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly onChange: (run: Applied['run'], candidateId: string, what: 'reverted' | 'kept') => Promise<void>,
    private readonly log: vscode.LogOutputChannel) {
    const onEvent = (uri: vscode.Uri) => {
      for (const entry of this.applied.values()) if (entry.absolute.has(uri.fsPath)) this.schedule(entry);
    };
    const onCommit = () => {
      for (const entry of this.applied.values()) this.schedule(entry);
    };
    this.subscriptions = [this.watcher, this.watcher.onDidChange(onEvent), this.watcher.onDidCreate(onEvent), this.watcher.onDidDelete(onEvent),
      this.commits, this.commits.onDidChange(onCommit), this.commits.onDidCreate(onCommit)];
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

  /** Stops watching a candidate that the panel itself takes out (Replace, Undo Apply, Reject). */
  unwatch(run: Applied['run'], candidateId: string): void {
    const key = `${run.runId}/${candidateId}`;
    clearTimeout(this.applied.get(key)?.timer);
    this.applied.delete(key);
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
      const { root, snapshotCommit, patches } = entry.run;
      const reverted = (await changedSinceSnapshot(root, snapshotCommit, entry.files)).length === 0;
      const kept = !reverted && await committedAsCandidate(root, snapshotCommit, patches.get(entry.candidateId) ?? '');
      // A second check may have finished first; only the one that removes the entry reports.
      if ((!reverted && !kept) || this.applied.get(entry.key) !== entry) return;
      this.applied.delete(entry.key);
      await this.onChange(entry.run, entry.candidateId, reverted ? 'reverted' : 'kept');
    } catch (error) {
      this.log.warn(`could not check whether ${entry.candidateId} was reverted: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
