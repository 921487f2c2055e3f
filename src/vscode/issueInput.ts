import * as vscode from 'vscode';

/**
 * Asks for the issue: a file given by the command's argument (explorer menu), the editor's selection, text
 * typed by the user, or a file picked from disk. Returns undefined when the user backs out.
 */
export async function askIssue(argument?: unknown): Promise<string | undefined> {
  if (argument instanceof vscode.Uri) return readText(argument);
  if (typeof argument === 'string' && argument.trim() !== '') return argument;
  const editor = vscode.window.activeTextEditor;
  const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  const items: (vscode.QuickPickItem & { id: string })[] = [
    ...(selection ? [{ id: 'selection', label: '$(selection) Use the selected text', detail: selection.slice(0, 120) }] : []),
    { id: 'type', label: '$(edit) Type the issue' },
    { id: 'file', label: '$(file) Read the issue from a file...' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'EntroPO: Fix Issue', placeHolder: 'Where is the issue described?' });
  if (!pick) return undefined;
  if (pick.id === 'selection') return selection;
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
