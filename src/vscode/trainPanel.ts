import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml.js';
import type { FromTrainWebview, ToTrainWebview, TrainPoint, TrainView } from '../protocol/trainMessages.js';
import { restoredTrainView } from './restoredTrainView.js';

/** The webview type of the training panel. */
export const TRAIN_VIEW_TYPE = 'entropo.train';

/** The training panel: progress and live curves of the current run, strict CSP with a nonce. */
export class TrainPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private view: TrainView | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly onMessage: (message: FromTrainWebview) => void) {}

  /** Shows the panel for a new run, creating the panel if needed. */
  start(view: TrainView): void {
    this.view = view;
    if (this.panel) this.panel.reveal(undefined, true);
    else this.attach(vscode.window.createWebviewPanel(TRAIN_VIEW_TYPE, 'EntroPO Training', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options()));
    this.post({ type: 'state', state: view });
  }

  /**
   * Takes over a panel VS Code restored after a reload, with the run its page kept (`state`). A run that was
   * still going then was stopped with the window, and now says so.
   */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    panel.webview.options = this.options();
    this.view = restoredTrainView(state);
    this.attach(panel);
  }

  /** Changes the run's status or facts; the panel redraws. */
  update(change: Partial<TrainView>): void {
    if (!this.view) return;
    Object.assign(this.view, change);
    this.post({ type: 'state', state: this.view });
  }

  /** Adds one optimizer step to the curves. */
  step(point: TrainPoint, totalSteps: number, etaS: number | undefined): void {
    if (!this.view) return;
    this.view.points.push(point);
    this.view.totalSteps = totalSteps;
    this.view.etaS = etaS;
    this.post({ type: 'step', runId: this.view.runId, point, totalSteps, etaS });
  }

  /** The run shown, if any. */
  get current(): TrainView | undefined {
    return this.view;
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.splice(0).forEach((d) => d.dispose());
  }

  private post(message: ToTrainWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.webview.html = this.html(panel.webview);
    const subscriptions = [
      panel.webview.onDidReceiveMessage((message: FromTrainWebview) => {
        // A panel shown again after being hidden has lost its script's memory: send the whole run.
        if (message.type === 'ready') {
          if (this.view) this.post({ type: 'state', state: this.view });
        } else this.onMessage(message);
      }),
      panel.onDidDispose(() => {
        this.panel = undefined;
        subscriptions.forEach((d) => d.dispose());
      }),
    ];
    this.disposables.push(...subscriptions);
  }

  private html(webview: vscode.Webview): string {
    return webviewHtml(webview, this.extensionUri, { title: 'EntroPO Training', script: 'train.js', style: 'train.css' });
  }
}
