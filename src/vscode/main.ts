import type * as vscode from 'vscode';
import { Controller } from './controller.js';
import type { RunsView } from './runsView.js';

/** Builds the extension's heavy part on the first command; loaded lazily by extension.ts. */
export function createController(context: vscode.ExtensionContext, runs: RunsView): Controller {
  return new Controller(context, runs);
}
