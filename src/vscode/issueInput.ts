import * as vscode from 'vscode';

/** The first line of the untitled editor Write the Issue opens; Fix Issue leaves it out of the issue. */
const DRAFT_HEADER = '<!-- Describe the issue below, then run "EntroPO: Fix Issue..." again (this editor\'s text is the issue). -->';

/**
 * Asks for the issue: a file given by the command's argument (explorer menu), the editor's selection, an
 * issue written in an untitled Markdown editor, text typed in one line, or a file picked from disk. Returns
 * undefined when the user backs out (or went to write the issue first).
 */
export async function askIssue(argument?: unknown): Promise<string | undefined> {
  if (argument instanceof vscode.Uri) return readText(argument);
  if (typeof argument === 'string' && argument.trim() !== '') return argument;
  const editor = vscode.window.activeTextEditor;
  const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  const draft = editor?.document.getText().startsWith(DRAFT_HEADER) ? editor.document.getText().slice(DRAFT_HEADER.length).trim() : '';
  const items: (vscode.QuickPickItem & { id: string })[] = [
    ...(draft ? [{ id: 'draft', label: '$(markdown) Use the issue written in this editor', detail: draft.split('\n')[0].slice(0, 120) }] : []),
    ...(selection ? [{ id: 'selection', label: '$(selection) Use the selected text', detail: selection.slice(0, 120) }] : []),
    { id: 'type', label: '$(edit) Type the issue' },
    { id: 'write', label: '$(markdown) Write the issue in an editor (several lines, Markdown)...' },
    { id: 'file', label: '$(file) Read the issue from a file...' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'EntroPO: Fix Issue', placeHolder: 'Where is the issue described?' });
  if (!pick) return undefined;
  if (pick.id === 'draft') return draft;
  if (pick.id === 'selection') return selection;
  if (pick.id === 'write') {
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: `${DRAFT_HEADER}\n\n` });
    await vscode.window.showTextDocument(document);
    return undefined;
  }
  if (pick.id === 'type') {
    const text = await vscode.window.showInputBox({ title: 'EntroPO: Fix Issue', prompt: 'Describe the issue to fix', ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' ? 'The issue cannot be empty.' : undefined) });
    return text?.trim() || undefined;
  }
  const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use as issue', filters: { Text: ['md', 'txt'], All: ['*'] } });
  return files?.[0] ? readText(files[0]) : undefined;
}

async function readText(uri: vscode.Uri): Promise<string> {
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  if (text.trim() === '') throw new Error(`${vscode.workspace.asRelativePath(uri)} is empty.`);
  return text;
}

/** The workspace folder to work in: the only one, or the one the user picks in a multi-root workspace. */
export async function askFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showErrorMessage('EntroPO: open a folder with a git repository first.');
    return undefined;
  }
  if (folders.length === 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder holds the repository to fix?' });
}
