import * as vscode from 'vscode';
import { patchedTree, readBlob } from '../core/worktree/candidateTree.js';
import { changedFiles } from '../core/worktree/patch.js';

/** The URI scheme of read-only documents showing a file as in the snapshot or in a candidate. */
export const CANDIDATE_SCHEME = 'entropo-candidate';

/** What the documents need to know of a run. */
export interface RunFiles {
  root: string;
  snapshotCommit: string;
  patches: Map<string, string>;
}

/** Serves `entropo-candidate:/<path>?run=<id>&side=<snapshot|candidate id>` from git objects; nothing on disk. */
export class CandidateDocuments implements vscode.TextDocumentContentProvider {
  private readonly trees = new Map<string, Promise<string>>();

  constructor(private readonly runs: (runId: string) => RunFiles | undefined) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const run = this.runs(query.get('run') ?? '');
    if (!run) return '(this run is no longer available)';
    const side = query.get('side') ?? 'snapshot';
    const path = uri.path.replace(/^\//, '');
    const treeish = side === 'snapshot' ? run.snapshotCommit : await this.tree(run, query.get('run')!, side);
    return (await readBlob(run.root, treeish, path)) ?? '';
  }

  private tree(run: RunFiles, runId: string, candidateId: string): Promise<string> {
    const key = `${runId}/${candidateId}`;
    let tree = this.trees.get(key);
    if (!tree) {
      tree = patchedTree(run.root, run.snapshotCommit, run.patches.get(candidateId) ?? '');
      this.trees.set(key, tree);
    }
    return tree;
  }
}

/** A document URI for one side of a diff. */
export function candidateUri(runId: string, side: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CANDIDATE_SCHEME, path: `/${path}`, query: new URLSearchParams({ run: runId, side }).toString() });
}

/** Opens the native diff editor: left side vs right side over every file either patch touches. */
export async function openDiff(runId: string, left: string, right: string, patches: string[], title: string): Promise<void> {
  const files = [...new Set(patches.flatMap((p) => changedFiles(p)))];
  if (files.length === 0) {
    void vscode.window.showInformationMessage(`${title}: no changes.`);
    return;
  }
  if (files.length === 1) {
    await vscode.commands.executeCommand('vscode.diff', candidateUri(runId, left, files[0]), candidateUri(runId, right, files[0]), `${title}: ${files[0]}`);
    return;
  }
  const resources = files.map((f) => [vscode.Uri.file(f), candidateUri(runId, left, f), candidateUri(runId, right, f)]);
  await vscode.commands.executeCommand('vscode.changes', title, resources);
}

/** The run and the candidate of a diff editor's right side (what its title bar buttons act on). */
export function candidateOfUri(uri: unknown): { runId: string; candidateId: string } | undefined {
  if (!(uri instanceof vscode.Uri) || uri.scheme !== CANDIDATE_SCHEME) return undefined;
  const query = new URLSearchParams(uri.query);
  const runId = query.get('run');
  const side = query.get('side');
  return runId && side && side !== 'snapshot' ? { runId, candidateId: side } : undefined;
}
