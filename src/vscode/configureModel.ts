import * as vscode from 'vscode';
import { listModels, testModel } from '../core/llm/probeEndpoint.js';

/** SecretStorage key of the endpoint's API key; the key never goes to settings or logs. */
export const API_KEY_SECRET = 'entropo.apiKey';

const STEPS = 5;
const title = (step: number) => `EntroPO: Configure Model (${step}/${STEPS})`;
const OTHER = 'Another model name...';

/**
 * Configure Model: the endpoint, the API key (into SecretStorage), a model from the endpoint's own list (or
 * typed), the action format; written to the user's settings unless the user chooses this workspace, so no
 * `.vscode/settings.json` appears in their repository unasked. Then one call checks that the model answers.
 * Resolves true when the settings were written.
 */
export async function configureModel(secrets: vscode.SecretStorage): Promise<boolean> {
  const config = vscode.workspace.getConfiguration('entropo');
  const endpoint = (await vscode.window.showInputBox({
    title: title(1), prompt: 'Base URL of an OpenAI-compatible endpoint', ignoreFocusOut: true,
    value: config.get<string>('endpoint') ?? 'http://localhost:8000/v1', placeHolder: 'http://localhost:8000/v1',
    validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'Enter an http(s) URL, e.g. http://localhost:11434/v1 for Ollama.'),
  }))?.trim();
  if (endpoint === undefined) return false;
  const key = await vscode.window.showInputBox({
    title: title(2), prompt: 'API key (leave empty for local servers; Escape keeps the stored key)', password: true, ignoreFocusOut: true,
  });
  if (key !== undefined) {
    if (key === '') await secrets.delete(API_KEY_SECRET);
    else await secrets.store(API_KEY_SECRET, key);
  }
  const apiKey = key ?? await secrets.get(API_KEY_SECRET);
  const model = await askModel(endpoint, apiKey, config.get<string>('model') ?? '');
  if (model === undefined) return false;
  const format = await vscode.window.showQuickPick([
    { label: 'tools', description: 'native OpenAI tool calls (most tool-calling models)' },
    { label: 'text', description: 'text function-call format (models trained on the R2E-Gym scaffold, EntroPO policies)' },
  ], { title: title(4), placeHolder: 'Action format' });
  if (!format) return false;
  const where = await askWhere();
  if (!where) return false;
  await config.update('endpoint', endpoint, where.target);
  await config.update('model', model, where.target);
  await config.update('actionFormat', format.label, where.target);
  const checked = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `EntroPO: asking ${model} for one token...` },
    () => testModel(endpoint, model, apiKey));
  const using = `EntroPO: using ${model} at ${endpoint} (${format.label} format), saved in ${where.name}.`;
  if (checked.ok) void vscode.window.showInformationMessage(`${using} The model answered in ${(checked.ms / 1000).toFixed(1)} s.`);
  else void vscode.window.showWarningMessage(`${using} But the model did not answer: ${checked.error}.`);
  return true;
}

// The endpoint's models to pick from; a name to type where it lists none (or cannot be reached yet).
async function askModel(endpoint: string, apiKey: string | undefined, current: string): Promise<string | undefined> {
  const listed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'EntroPO: listing models' }, () => listModels(endpoint, apiKey));
  if ('models' in listed && listed.models.length > 0) {
    const items = [...listed.models.map((id) => ({ label: id, description: id === current ? 'current' : undefined })), { label: OTHER }];
    const pick = await vscode.window.showQuickPick(items, { title: title(3), placeHolder: `Model at ${endpoint}`, ignoreFocusOut: true });
    if (!pick) return undefined;
    if (pick.label !== OTHER) return pick.label;
  }
  const note = 'error' in listed ? ` (the endpoint did not list its models: ${listed.error})` : '';
  return (await vscode.window.showInputBox({
    title: title(3), prompt: `Model name at that endpoint${note}`, ignoreFocusOut: true, value: current, placeHolder: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
    validateInput: (v) => (v.trim() === '' ? 'The model name cannot be empty.' : undefined),
  }))?.trim();
}

// User settings unless the user asks for this workspace only.
async function askWhere(): Promise<{ target: vscode.ConfigurationTarget; name: string } | undefined> {
  const user = { label: 'User settings', description: 'every workspace (recommended)', target: vscode.ConfigurationTarget.Global, name: 'your user settings' };
  const items = vscode.workspace.workspaceFolders
    ? [user, { label: 'This workspace', description: 'writes .vscode/settings.json in the repository', target: vscode.ConfigurationTarget.Workspace, name: 'this workspace' }]
    : [user];
  const pick = await vscode.window.showQuickPick(items, { title: title(5), placeHolder: 'Where to save the endpoint, model and format' });
  return pick ? { target: pick.target, name: pick.name } : undefined;
}
