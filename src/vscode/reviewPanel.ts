import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml.js';
import type { FromWebview, ReviewState, ToWebview } from '../protocol/messages.js';

/** The webview type, also the activation event that restores the panel after a reload. */
export const REVIEW_VIEW_TYPE = 'entropo.review';

/** The review panel: one webview, shown on demand, restored after a reload, strict CSP with a nonce. */
export class ReviewPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: ReviewState | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly onMessage: (message: FromWebview) => void) {}

  /** Shows the panel, creating it if needed. */
  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    this.attach(vscode.window.createWebviewPanel(REVIEW_VIEW_TYPE, 'EntroPO Candidates', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options()));
  }

  /** Takes over a panel VS Code restored after a reload. */
  restore(panel: vscode.WebviewPanel): void {
    panel.webview.options = this.options();
    this.attach(panel);
  }

  /** Sends the state to the panel (kept for when the panel is shown again). */
  update(state: ReviewState): void {
    this.state = state;
    this.post({ type: 'state', state });
  }

  post(message: ToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  get visible(): boolean {
    return this.panel !== undefined;
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.splice(0).forEach((d) => d.dispose());
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.webview.html = this.html(panel.webview);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: FromWebview) => {
        if (message.type === 'ready' && this.state) this.post({ type: 'state', state: this.state });
        else this.onMessage(message);
      }),
      panel.onDidDispose(() => { this.panel = undefined; }),
    );
  }

  private html(webview: vscode.Webview): string {
    return webviewHtml(webview, this.extensionUri, { title: 'EntroPO Candidates', script: 'webview.js', style: 'review.css', live: true });
  }
}
