import type * as vscode from 'vscode';

/** Composition root of the extension; commands are registered as the features land. */
export function activate(_context: vscode.ExtensionContext): void {
  // Nothing is loaded until a command runs: activation stays cheap.
}

/** Nothing to release: every disposable is registered on the context. */
export function deactivate(): void {}
