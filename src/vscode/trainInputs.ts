import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AgentError, ErrorReason } from '../core/errors.js';
import { isPairFormat, type ExportFormat } from '../core/store/exportLines.js';
import { exportPreferences } from '../core/store/exportPreferences.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { QUANTIZE_MODES, TRAIN_METHODS } from '../core/train/runTrainer.js';
import { readSetting } from './settings.js';
import { trainDataDir } from './trainData.js';

/** A method of the trainer. */
export type TrainMethod = (typeof TRAIN_METHODS)[number];

/** What one training run needs; every field can also come from the command's argument. */
export interface TrainInputs {
  method: TrainMethod;
  baseModel: string;
  data: string;
  out: string;
  /** Train without a GPU (tiny models only). */
  cpuOk: boolean;
  /** QLoRA: the base model loaded in 4-bit (the `entropo.train.quantize` setting, or the argument). */
  quantize?: QuantizeMode;
}

/** A value of the trainer's `--quantize`. */
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/** Where the inputs come from besides the user. */
export interface TrainInputSources {
  storeDir: string;
  /** The extension's global storage folder: exported data and adapters go under it by default. */
  storageDir: string;
  memento: vscode.Memento;
  /** What the store holds to train on, shown next to each method; absent when the data is given. */
  available?: { dpoPairs: number; ktoExamples: number };
}

const METHOD_HELP: Record<TrainMethod, string> = {
  'entropo-dpo': 'entropy-regularized DPO on applied vs rejected pairs (the paper\'s method; keeps rollouts diverse)',
  'entropo-kto': 'entropy-regularized KTO on single labelled trajectories (needs no pairs)',
  dpo: 'standard DPO, as a control (alpha = beta)',
  kto: 'standard KTO, as a control',
  judge: 'the YES/NO LLM-judge verifier, on labelled trajectories',
};

const LAST_BASE_MODEL = 'entropo.train.lastBaseModel';

/** The export format a method trains on when the data is exported from the store. */
export function formatForMethod(method: TrainMethod): ExportFormat {
  return method === 'entropo-dpo' || method === 'dpo' ? 'entropo-dpo' : 'entropo-kto';
}

/**
 * Asks for the method, the base model folder, the data (a fresh export of the store by default) and the
 * output folder, skipping whatever `argument` already gives. Returns undefined when the user backs out.
 */
export async function askTrainInputs(argument: unknown, sources: TrainInputSources): Promise<TrainInputs | undefined> {
  const given = (argument && typeof argument === 'object' && !(argument instanceof vscode.Uri) ? argument : {}) as Partial<Record<keyof TrainInputs, unknown>>;
  const method = TRAIN_METHODS.includes(given.method as TrainMethod) ? given.method as TrainMethod : await askMethod(sources.available);
  if (!method) return undefined;
  const chosen = typeof given.baseModel === 'string' ? path.resolve(given.baseModel) : await askBaseModel(sources.memento);
  if (!chosen) return undefined;
  const baseModel = await modelIn(chosen);
  if (!baseModel) return undefined;
  await sources.memento.update(LAST_BASE_MODEL, chosen);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const data = typeof given.data === 'string' ? path.resolve(given.data) : await askData(method, sources, stamp);
  if (!data) return undefined;
  const out = typeof given.out === 'string' ? path.resolve(given.out) : await askOut(path.join(sources.storageDir, 'adapters', `${stamp}-${method}`));
  if (!out) {
    // Backed out at the last question: the copy of the recorded data made for this run goes too.
    if (data.startsWith(path.join(sources.storageDir, 'train-data') + path.sep)) await rm(data, { force: true });
    return undefined;
  }
  // The setting's 4-bit needs a GPU; a run the user moved to the CPU trains the base as it is.
  const setting = given.cpuOk === true ? undefined : readSetting('quantize');
  const quantize = [given.quantize, setting].find((q): q is QuantizeMode => QUANTIZE_MODES.includes(q as QuantizeMode));
  return { method, baseModel, data, out, cpuOk: given.cpuOk === true, ...(quantize ? { quantize } : {}) };
}

async function askMethod(available?: TrainInputSources['available']): Promise<TrainMethod | undefined> {
  // How much each method would have to learn from, from the recorded decisions.
  const data = (id: TrainMethod) => {
    if (!available) return '';
    const pairs = formatForMethod(id) === 'entropo-dpo';
    const n = pairs ? available.dpoPairs : available.ktoExamples;
    return pairs ? `${n} pair${n === 1 ? '' : 's'} recorded` : `${n} labelled trajector${n === 1 ? 'y' : 'ies'} recorded`;
  };
  const pick = await vscode.window.showQuickPick(TRAIN_METHODS.map((id) => ({ label: id, description: data(id), detail: METHOD_HELP[id], id })),
    { title: 'EntroPO: Fine-Tune (1/4)', placeHolder: 'Training method' });
  return pick?.id;
}

/**
 * The base model a chosen path stands for: a Hugging Face folder (config.json), a GGUF file, or the GGUF file
 * in a folder (asked which when it holds several). Folder dialogs cannot pick files on every platform, so a
 * GGUF model is chosen by its folder (an Ollama, LM Studio or llama.cpp models folder).
 */
async function modelIn(chosen: string): Promise<string | undefined> {
  if (chosen.toLowerCase().endsWith('.gguf') && existsSync(chosen)) return chosen;
  if (existsSync(path.join(chosen, 'config.json'))) return chosen;
  const ggufs = existsSync(chosen) && statSync(chosen).isDirectory() ? readdirSync(chosen).filter((f) => f.toLowerCase().endsWith('.gguf')).sort() : [];
  if (ggufs.length === 0) {
    throw new AgentError(ErrorReason.InvalidArgument, `${chosen} holds no config.json and no .gguf file: choose a local Hugging Face model folder (config.json, tokenizer and weights) or a folder with a GGUF model.`);
  }
  if (ggufs.length === 1) return path.join(chosen, ggufs[0]);
  const pick = await vscode.window.showQuickPick(ggufs, { title: 'EntroPO: Fine-Tune (2/4)', placeHolder: 'Which GGUF model?' });
  return pick ? path.join(chosen, pick) : undefined;
}

async function askBaseModel(memento: vscode.Memento): Promise<string | undefined> {
  const last = memento.get<string>(LAST_BASE_MODEL);
  const picked = await vscode.window.showOpenDialog({ title: 'EntroPO: Fine-Tune (2/4): the base model, a local Hugging Face model folder or a folder with a GGUF model',
    canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Use as Base Model', defaultUri: last ? vscode.Uri.file(last) : undefined });
  return picked?.[0]?.fsPath;
}

async function askData(method: TrainMethod, sources: TrainInputSources, stamp: string): Promise<string | undefined> {
  const format = formatForMethod(method);
  const stats = await PreferenceStore.open(sources.storeDir).stats();
  const recorded = isPairFormat(format) ? `${stats.exportable.dpoPairs} preference pair(s)` : `${stats.exportable.ktoExamples} labelled trajectories`;
  const pick = await vscode.window.showQuickPick([
    { id: 'export', label: '$(database) Export the recorded decisions now', description: `${recorded}, as ${format}` },
    { id: 'file', label: '$(file) Choose an exported file...', description: 'JSON lines from "Export Preference Data..." or `entropo export`' },
  ], { title: 'EntroPO: Fine-Tune (3/4)', placeHolder: 'Training data' });
  if (!pick) return undefined;
  if (pick.id === 'file') {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Train on This File', filters: { 'JSON Lines': ['jsonl'], All: ['*'] } });
    return files?.[0]?.fsPath;
  }
  const out = path.join(trainDataDir(sources.storageDir, sources.storeDir), `${stamp}-${format}.jsonl`);
  const summary = await exportPreferences(PreferenceStore.open(sources.storeDir), { format, out });
  if (summary.lines === 0) {
    await rm(out, { force: true });
    const why = isPairFormat(format) ? 'a pair needs a task with an applied and a rejected candidate' : 'no candidate has a decision yet';
    throw new AgentError(ErrorReason.InvalidArgument, `Nothing to train on: ${why}. Apply and reject candidates in the review panel first, or choose an exported file.`);
  }
  return out;
}

async function askOut(defaultDir: string): Promise<string | undefined> {
  const pick = await vscode.window.showQuickPick([
    { id: 'default', label: '$(folder) In the extension\'s storage', description: defaultDir },
    { id: 'choose', label: '$(folder-opened) Choose a folder...' },
  ], { title: 'EntroPO: Fine-Tune (4/4)', placeHolder: 'Where the adapter goes' });
  if (!pick) return undefined;
  if (pick.id === 'default') return defaultDir;
  const folders = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Save the Adapter Here' });
  return folders?.[0]?.fsPath;
}
