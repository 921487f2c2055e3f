import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The page of one of our webviews: a strict CSP with a fresh nonce, one stylesheet from media/ and one
 * script from dist/, loaded through asWebviewUri; nothing else may load. A `live` page gets one small status
 * line that screen readers announce, instead of announcing the whole page on every update.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: { title: string; script: string; style: string; live?: boolean }): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', page.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.style));
  const csp = `default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}'; img-src ${webview.cspSource};`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${page.title}</title>
</head>
<body>
<main id="root"></main>${page.live ? '\n<p id="status" class="status" role="status" aria-live="polite"></p>' : ''}
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
