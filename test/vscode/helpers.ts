import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as vscode from 'vscode';

/** The extension's identifier: `publisher.name` from package.json. */
export const EXTENSION_ID = 'entropo.entropo-agent';

/** What the harness passes in through the environment of code-server, which the extension host inherits. */
export const e2eEnv = {
  /** The workspace folder: a fresh git repository holding a copy of examples/pagination/repo. */
  workspace: process.env.ENTROPO_E2E_WORKSPACE ?? '',
  /** A folder kept after the run (test-artifacts/e2e): write files here to look at them later. */
  artifacts: process.env.ENTROPO_E2E_ARTIFACTS ?? '',
  /** The repository's examples/pagination folder: the issue and the recorded scripts. */
  example: process.env.ENTROPO_E2E_EXAMPLE ?? '',
  /** The trainer's virtual environment that scripts/test.sh creates (trainer/.venv): Fine-Tune runs in it. */
  trainerVenv: process.env.ENTROPO_E2E_TRAINER_VENV ?? '',
  /** The editor's user data folder (`--user-data-dir`), which holds the extensions' global storage. */
  userData: process.env.ENTROPO_E2E_USER_DATA ?? '',
  /** True when the extension under test is the installed .vsix rather than the repository folder. */
  packaged: process.env.ENTROPO_E2E_PACKAGED === '1',
};

/** The installed extension; throws when the editor does not know it. */
export function ourExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  return extension;
}

/** The first workspace folder's URI; throws when no folder is open. */
export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return folder.uri;
}

/** Runs a command by id, first checking that it is registered so a typo fails with a clear message. */
export async function runCommand<T = unknown>(id: string, ...args: unknown[]): Promise<T> {
  const known = await vscode.commands.getCommands(true);
  if (!known.includes(id)) throw new Error(`command ${id} is not registered`);
  return vscode.commands.executeCommand<T>(id, ...args);
}

/** Options for `waitFor`. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Names the condition in the timeout error. */
  what?: string;
}

/** Polls `probe` until it returns a truthy value and returns that value; throws after the timeout. */
export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 100, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Opens a workspace file (path relative to the workspace root) in an editor and returns the editor. */
export async function openFile(relativePath: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(workspaceRoot(), relativePath));
  return vscode.window.showTextDocument(document);
}

/** Runs git with argv in the workspace (or `cwd`) and returns stdout; a 30 s timeout guards against hangs. */
export async function git(args: string[], cwd = workspaceRoot().fsPath): Promise<string> {
  const { stdout } = await promisify(execFile)('git', args, { cwd, timeout: 30_000, encoding: 'utf8' });
  return stdout;
}
