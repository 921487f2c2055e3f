import * as vscode from 'vscode';
import type { Controller } from './controller.js';
import { REVIEW_VIEW_TYPE } from './reviewPanel.js';
import { RUNS_VIEW_ID, RunsView } from './runsView.js';
import { TRAIN_VIEW_TYPE } from './trainPanel.js';

let controller: Controller | undefined;

/**
 * Composition root. Activation only registers commands; the engine (git, tree-sitter, the model client) is
 * in a second bundle, `main.js`, required on the first command so that activation stays cheap.
 */
export function activate(context: vscode.ExtensionContext): void {
  // The history of runs reads only saved files, so it shows without loading the engine.
  const runs = new RunsView(vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, 'runs').fsPath);
  context.subscriptions.push(runs, vscode.window.registerTreeDataProvider(RUNS_VIEW_ID, runs));
  const load = (): Controller => {
    if (!controller) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const main = require('./main.js') as typeof import('./main.js');
      controller = main.createController(context, runs);
      context.subscriptions.push(controller);
    }
    return controller;
  };
  const commands: Record<string, (...args: unknown[]) => unknown> = {
    'entropo.fixIssue': (arg) => load().fixIssue(arg),
    'entropo.showCandidates': () => load().showCandidates(),
    'entropo.showRun': (runId) => load().showRun(typeof runId === 'string' ? runId : undefined),
    'entropo.applyCandidate': (arg) => load().apply(arg),
    'entropo.undoApply': (arg) => load().undoApply(arg),
    'entropo.rejectCandidate': (arg) => load().reject(arg),
    'entropo.applyFromDiff': (uri) => load().fromDiff(uri, 'apply'),
    'entropo.rejectFromDiff': (uri) => load().fromDiff(uri, 'reject'),
    'entropo.nextCandidateDiff': (uri) => load().fromDiff(uri, 'next'),
    'entropo.compareCandidates': (a, b) => load().compare(typeof a === 'string' ? a : undefined, typeof b === 'string' ? b : undefined),
    'entropo.cancelRun': () => load().cancel(),
    'entropo.configureModel': () => load().configureModel(),
    'entropo.openLog': () => load().openLog(),
    'entropo.exportPreferences': (arg) => load().exportPreferences(arg),
    'entropo.deleteRecordedData': (arg) => load().deleteRecordedData(arg),
    'entropo.train': (arg) => load().train(arg),
  };
  for (const [id, handler] of Object.entries(commands)) context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(REVIEW_VIEW_TYPE, {
    deserializeWebviewPanel: (panel) => load().restorePanel(panel),
  }));
  context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(TRAIN_VIEW_TYPE, {
    deserializeWebviewPanel: (panel, state) => Promise.resolve(load().restoreTrainPanel(panel, state)),
  }));
}

/** Nothing else to release: every disposable is registered on the context. */
export function deactivate(): void {}
