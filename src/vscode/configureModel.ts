import * as vscode from 'vscode';

/** SecretStorage key of the endpoint's API key; the key never goes to settings or logs. */
export const API_KEY_SECRET = 'entropo.apiKey';

/** Configure Model: endpoint, model and action format into settings; the API key into SecretStorage. */
export async function configureModel(secrets: vscode.SecretStorage): Promise<void> {
  const config = vscode.workspace.getConfiguration('entropo');
  const endpoint = await vscode.window.showInputBox({
    title: 'EntroPO: Configure Model (1/4)', prompt: 'Base URL of an OpenAI-compatible endpoint', ignoreFocusOut: true,
    value: config.get<string>('endpoint') ?? 'http://localhost:8000/v1', placeHolder: 'http://localhost:8000/v1',
    validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'Enter an http(s) URL, e.g. http://localhost:11434/v1 for Ollama.'),
  });
  if (endpoint === undefined) return;
  const model = await vscode.window.showInputBox({
    title: 'EntroPO: Configure Model (2/4)', prompt: 'Model name at that endpoint', ignoreFocusOut: true,
    value: config.get<string>('model') ?? '', placeHolder: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
    validateInput: (v) => (v.trim() === '' ? 'The model name cannot be empty.' : undefined),
  });
  if (model === undefined) return;
  const format = await vscode.window.showQuickPick([
    { label: 'tools', description: 'native OpenAI tool calls (most tool-calling models)' },
    { label: 'text', description: 'text function-call format (models trained on the R2E-Gym scaffold, EntroPO policies)' },
  ], { title: 'EntroPO: Configure Model (3/4)', placeHolder: 'Action format' });
  if (!format) return;
  const key = await vscode.window.showInputBox({
    title: 'EntroPO: Configure Model (4/4)', prompt: 'API key (leave empty for local servers; Escape keeps the stored key)',
    password: true, ignoreFocusOut: true,
  });
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('endpoint', endpoint.trim(), target);
  await config.update('model', model.trim(), target);
  await config.update('actionFormat', format.label, target);
  if (key !== undefined) {
    if (key === '') await secrets.delete(API_KEY_SECRET);
    else await secrets.store(API_KEY_SECRET, key);
  }
  void vscode.window.showInformationMessage(`EntroPO: using ${model.trim()} at ${endpoint.trim()} (${format.label} format).`);
}
