import * as path from 'node:path';
import * as vscode from 'vscode';
import { committedAsCandidate, holdsCandidate, takenBack } from '../core/worktree/candidateTree.js';
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
  /** `reverted`: taken back, and watched for its coming back (a stash pop, a redo). */
  state: 'applied' | 'reverted';
  timer?: NodeJS.Timeout;
}

/** What became of a watched candidate. */
export type WatchedChange = 'reverted' | 'kept' | 'restored';

/** How long file events settle before the check: a checkout or a multi-file undo writes several files. */
const SETTLE_MS = 300;

/**
 * Notices what becomes of an applied candidate: once its change is out of the tree again (`takenBack`: undo
 * and save, a discard in Source Control, `git checkout`, `git stash`), `onChange(.., 'reverted')` runs, and
 * the candidate is watched for coming back: once the files are exactly the candidate's again (`git stash
 * pop`, a redo), `onChange(.., 'restored')`, and it is watched as applied. Once a commit holds exactly its
 * change, `onChange(.., 'kept')`, and neither it nor any other candidate of its run is watched any more.
 * Editing it further is none of these.
 *
 * At most one candidate of a run is watched as applied (the working tree holds at most one). A candidate the
 * panel took out (Replace, Undo Apply, Reject) is watched for coming back too (`takenOut`): an Undo in the
 * editor puts it back. When a candidate comes back while another of its run is applied and no longer in the
 * tree, that one is reported reverted first, so that the run never has two applied. Candidates of other runs
 * taken back before are no longer expected back once one is applied: the same change coming back is this
 * apply, not a restore of that one.
 */
export class RevertWatcher implements vscode.Disposable {
  private readonly applied = new Map<string, Applied>();
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/*');
  // A commit moves HEAD and writes its reflog; the working files themselves do not change.
  private readonly commits = vscode.workspace.createFileSystemWatcher('**/.git/logs/HEAD');
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly onChange: (run: Applied['run'], candidateId: string, what: WatchedChange) => Promise<void>,
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
    if (this.applied.get(key)?.state === 'applied' || files.length === 0) return;
    for (const other of this.applied.values()) {
      const sameRun = other.run.runId === run.runId;
      if ((sameRun && other.state === 'applied') || (!sameRun && other.state === 'reverted')) this.unwatch(other.run, other.candidateId);
    }
    this.add(run, candidateId, files, 'applied');
  }

  /** Watches a candidate that the panel took out of the working tree (or a reverted one of a reloaded run) for coming back. */
  takenOut(run: Applied['run'], candidateId: string): void {
    const files = changedFiles(run.patches.get(candidateId) ?? '');
    if (files.length > 0) this.add(run, candidateId, files, 'reverted');
  }

  /** Stops watching a candidate that the panel itself takes out or decides on (Replace, Undo Apply, Reject). */
  unwatch(run: Applied['run'], candidateId: string): void {
    const key = `${run.runId}/${candidateId}`;
    clearTimeout(this.applied.get(key)?.timer);
    this.applied.delete(key);
  }

  private add(run: Applied['run'], candidateId: string, files: string[], state: Applied['state']): void {
    const key = `${run.runId}/${candidateId}`;
    clearTimeout(this.applied.get(key)?.timer);
    const entry: Applied = { key, run, candidateId, files, absolute: new Set(files.map((f) => path.join(run.root, f))), state };
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
      const { root, snapshotCommit, patches } = entry.run;
      const patch = patches.get(entry.candidateId) ?? '';
      let what: WatchedChange | undefined;
      if (entry.state === 'reverted') what = await holdsCandidate(root, snapshotCommit, patch) && !(await this.anotherHeld(entry)) ? 'restored' : undefined;
      else if (await takenBack(root, snapshotCommit, patch)) what = 'reverted';
      else if (await committedAsCandidate(root, snapshotCommit, patch)) what = 'kept';
      // A second check may have finished first, or the entry was unwatched meanwhile: only a current entry reports.
      if (!what || this.applied.get(entry.key) !== entry || entry.state !== (what === 'restored' ? 'reverted' : 'applied')) return;
      // A commit settles the run: a candidate taken out before is not expected back (another with the same
      // files, committed, would look like it).
      if (what === 'kept') for (const done of [entry, ...this.sameRun(entry)]) this.unwatch(done.run, done.candidateId);
      else entry.state = what === 'reverted' ? 'reverted' : 'applied';
      if (what === 'restored') {
        // The run's applied candidate is out of the tree now (anotherHeld said so): taken back, as by an Undo.
        for (const other of this.sameRun(entry)) {
          if (other.state !== 'applied') continue;
          other.state = 'reverted';
          await this.onChange(other.run, other.candidateId, 'reverted');
        }
      }
      await this.onChange(entry.run, entry.candidateId, what);
    } catch (error) {
      this.log.warn(`could not check what became of ${entry.candidateId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private sameRun(entry: Applied): Applied[] {
    return [...this.applied.values()].filter((other) => other !== entry && other.run.runId === entry.run.runId);
  }

  // Two candidates of one run with the same patch cannot be told apart in the tree: the applied one stays.
  private async anotherHeld(entry: Applied): Promise<boolean> {
    for (const other of this.sameRun(entry)) {
      if (other.state === 'applied' && await holdsCandidate(other.run.root, other.run.snapshotCommit, other.run.patches.get(other.candidateId) ?? '')) return true;
    }
    return false;
  }
}
