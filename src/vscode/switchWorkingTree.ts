import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AgentError, ErrorReason } from '../core/errors.js';
import { planRefusal, type FileSwitch } from '../core/worktree/treeSwitch.js';

/**
 * Writes a planned switch (core/worktree/treeSwitch.ts) into the working tree as one workspace edit, so that
 * one Undo in the editor takes it back, then saves the files so that git, the tests and Source Control see
 * it. Refuses, writing nothing, when a file is not what the plan expects on disk or has unsaved edits.
 */
export async function switchWorkingTree(root: string, plan: readonly FileSwitch[], label: string, applied?: string): Promise<void> {
  const refusal = await planRefusal(root, plan, applied);
  if (refusal) throw refusal;
  const uris = plan.map((file) => vscode.Uri.file(path.join(root, file.path)));
  const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty && uris.some((u) => u.fsPath === d.uri.fsPath));
  if (dirty.length > 0) {
    const names = dirty.map((d) => path.relative(root, d.uri.fsPath)).join(', ');
    throw new AgentError(ErrorReason.PatchDoesNotApply, `${applied ? `${applied}'s change was not taken out` : 'Not applied'}: ${names} has unsaved changes. Save or revert them first.`);
  }
  await settled(uris.map((u) => u.fsPath));
  const edit = new vscode.WorkspaceEdit();
  const metadata = { label, needsConfirmation: false };
  const saved: vscode.Uri[] = [];
  // A file changed on disk that the editor has not read again yet: written through the file service, which
  // the editor follows (an edit of its stale copy could not be saved over the newer file).
  const direct: [vscode.Uri, string][] = [];
  for (const [i, file] of plan.entries()) {
    const uri = uris[i];
    if (file.next === undefined) {
      if (file.expected !== undefined) edit.deleteFile(uri, { ignoreIfNotExists: true }, metadata);
    } else if (file.expected === undefined) {
      edit.createFile(uri, { overwrite: true, contents: Buffer.from(file.next, 'utf8') }, metadata);
    } else if (file.next !== file.expected) {
      const document = await vscode.workspace.openTextDocument(uri);
      if (document.getText() !== file.expected) {
        direct.push([uri, file.next]);
        continue;
      }
      edit.replace(uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), file.next, metadata);
      saved.push(uri);
    }
  }
  if (edit.size > 0 && !(await vscode.workspace.applyEdit(edit))) throw new AgentError(ErrorReason.Io, `The editor did not apply the change (${label}).`);
  for (const [uri, text] of direct) await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
  for (const uri of saved) {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    if (document?.isDirty && !(await document.save())) throw new AgentError(ErrorReason.Io, `Could not save ${path.relative(root, uri.fsPath)}.`);
  }
}

// How long the editor may take to notice a file written on disk; until it has, it refuses to save over it.
const EDITOR_CATCH_UP_MS = 1_500;

/**
 * Waits until every file was last written on disk at least EDITOR_CATCH_UP_MS ago. A file rewritten moments
 * ago with the text the editor already has (a checkout, a formatter, a script) would otherwise make the
 * editor refuse to save the switch ("file modified since"), leaving it applied in the editor only.
 */
async function settled(files: readonly string[]): Promise<void> {
  const newest = Math.max(0, ...await Promise.all(files.map((f) => stat(f).then((s) => s.mtimeMs, () => 0))));
  const wait = newest + EDITOR_CATCH_UP_MS - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, EDITOR_CATCH_UP_MS)));
}
