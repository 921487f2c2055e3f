import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CandidateView, ReviewState } from '../protocol/messages.js';

/** The view's id in package.json (the EntroPO view container in the activity bar). */
export const RUNS_VIEW_ID = 'entropo.runs';

/** What the view reads of a saved run.json. */
interface SavedRun {
  runId: string;
  review: ReviewState;
}

type Node = { kind: 'run'; run: SavedRun } | { kind: 'candidate'; run: SavedRun; candidate: CandidateView };

const OUTCOME: Record<string, string> = { ready: 'ready', no_fit_candidate: 'nothing worth applying', failed: 'failed', cancelled: 'cancelled' };
const DECISION_ICON: Record<string, string> = { applied: 'check', kept: 'git-commit', rejected: 'close', replaced: 'arrow-swap', undone: 'discard', reverted: 'discard' };

/**
 * The workspace's runs, newest first, each with its candidates and the decision about each; opening one
 * shows it in the review panel. It reads the runs the extension saved (runs/<id>/run.json in its storage),
 * so it needs none of the engine and lives in the activation bundle.
 */
export class RunsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly runsDir: string) {}

  /** Reads the runs again (after a run, or a decision). */
  refresh(): void {
    this.changed.fire();
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node?.kind === 'candidate') return [];
    if (node?.kind === 'run') return node.run.review.candidates.map((candidate) => ({ kind: 'candidate', run: node.run, candidate }));
    return (await this.runs()).map((run) => ({ kind: 'run', run }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const command = { command: 'entropo.showRun', title: 'Show Run', arguments: [node.run.runId] };
    if (node.kind === 'run') {
      const { review } = node.run;
      const item = new vscode.TreeItem(review.issueTitle, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = node.run.runId;
      item.description = [when(node.run.runId), review.outcome ? OUTCOME[review.outcome.kind] : review.status].join(' · ');
      item.tooltip = review.outcome ? `${review.issueTitle}\n${review.outcome.summary}` : review.issueTitle;
      item.iconPath = new vscode.ThemeIcon(review.outcome?.kind === 'ready' ? 'pass' : review.outcome?.kind === 'cancelled' ? 'circle-slash' : review.outcome ? 'warning' : 'sync');
      item.contextValue = 'run';
      item.command = command;
      return item;
    }
    const c = node.candidate;
    const item = new vscode.TreeItem(`#${c.rank} ${c.id}`, vscode.TreeItemCollapsibleState.None);
    item.id = `${node.run.runId}/${c.id}`;
    item.description = [c.decision, c.recommended ? 'recommended' : c.unfit ? 'not recommended' : '', c.summary].filter(Boolean).join(' · ');
    item.tooltip = `${c.explanation}${c.unfit ? `\nNot worth applying: ${c.unfit}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(c.decision ? DECISION_ICON[c.decision] ?? 'circle-outline' : c.recommended ? 'star-full' : 'circle-outline');
    item.contextValue = 'candidate';
    item.command = command;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async runs(): Promise<SavedRun[]> {
    const ids = await readdir(this.runsDir).catch(() => [] as string[]);
    const runs = await Promise.all(ids.map(async (id) => {
      try {
        const saved = JSON.parse(await readFile(path.join(this.runsDir, id, 'run.json'), 'utf8')) as SavedRun;
        return saved.review ? saved : undefined;
      } catch {
        return undefined;
      }
    }));
    // Run ids are ISO timestamps: their order is the order the runs started.
    return runs.filter((r): r is SavedRun => r !== undefined).sort((a, b) => b.runId.localeCompare(a.runId));
  }
}

// "2026-12-06T19-13-09-123Z" -> "2026-12-06 19:13".
function when(runId: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})/.exec(runId);
  return m ? `${m[1]} ${m[2]}:${m[3]}` : runId;
}
