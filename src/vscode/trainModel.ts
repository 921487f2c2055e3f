import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AgentError, ErrorReason } from '../core/errors.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { detectCudaGpus } from '../core/train/detectGpu.js';
import { ensureTrainerEnv, findTrainerDir, runTrainer } from '../core/train/runTrainer.js';
import { serveOffers, type ServeOffer } from '../core/train/serveOffers.js';
import type { TrainDone, TrainEvent, TrainStep } from '../core/train/trainEvents.js';
import type { FromTrainWebview, TrainPoint } from '../protocol/trainMessages.js';
import { askTrainInputs, type TrainInputs } from './trainInputs.js';
import { TrainPanel } from './trainPanel.js';
import { readSetting } from './settings.js';

/** How a Fine-Tune command ended; undefined when the user backed out of a prompt. */
export type TrainOutcome =
  | { status: 'done'; adapterDir: string; vllmCommand?: string; serveOffers: ServeOffer[] }
  | { status: 'failed' | 'cancelled' | 'unavailable'; message: string };

type Progress = vscode.Progress<{ message?: string; increment?: number }>;

/** The message shown where the extension was installed without the Python trainer. */
export const TRAINER_MISSING = 'Fine-tuning needs the Python trainer (trainer/), which this build of the extension does not include. '
  + 'Train from a checkout of the repository with the CLI: `entropo train --method entropo-dpo --base-model DIR --data FILE` '
  + '(write FILE with "EntroPO: Export Preference Data...").';

/** Fine-Tune the Model: asks for the inputs, prepares the trainer's Python, trains with live progress. */
export class ModelTrainer implements vscode.Disposable {
  private running: AbortController | undefined;
  private readonly panel: TrainPanel;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel, private readonly storeDir: () => string) {
    this.panel = new TrainPanel(context.extensionUri, (m) => void this.onPanelMessage(m));
  }

  /** Whether a training run goes on in this window (it may be reading an export of the store). */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Runs the command; `argument` may carry any of TrainInputs' fields, which are then not asked for. */
  async train(argument?: unknown): Promise<TrainOutcome | undefined> {
    if (this.running) {
      void vscode.window.showWarningMessage('EntroPO: a training run is already in progress. Cancel it first.');
      return undefined;
    }
    const trainerDir = findTrainerDir(this.context.extensionUri.fsPath);
    if (!trainerDir) {
      this.log.warn(`no trainer next to ${this.context.extensionUri.fsPath}`);
      void vscode.window.showErrorMessage(`EntroPO: ${TRAINER_MISSING}`);
      return { status: 'unavailable', message: TRAINER_MISSING };
    }
    const storageDir = this.context.globalStorageUri.fsPath;
    const given = (argument && typeof argument === 'object' ? argument : {}) as { data?: unknown; cpuOk?: unknown };
    // Before any question: is there anything to train on, and anything to train with?
    const available = typeof given.data === 'string' ? undefined : (await PreferenceStore.open(this.storeDir()).stats()).exportable;
    if (available && available.dpoPairs === 0 && available.ktoExamples === 0) {
      const message = 'Nothing to train on yet: no decision about a candidate of a complete run is recorded. Apply one candidate of a run and reject another, then fine-tune.';
      void vscode.window.showWarningMessage(`EntroPO: ${message}`);
      return { status: 'unavailable', message };
    }
    let cpuOk = given.cpuOk === true;
    if (!cpuOk) {
      const gpu = await detectCudaGpus();
      if ('none' in gpu) {
        this.log.info(`no CUDA GPU: ${gpu.none}`);
        if (!(await this.confirmCpu(gpu.none))) return undefined;
        cpuOk = true;
      }
    }
    const inputs = await askTrainInputs({ ...given, cpuOk }, { storeDir: this.storeDir(), storageDir, memento: this.context.globalState, available });
    if (!inputs) return undefined;
    const chosen = readSetting('pythonEnvironment').trim();
    const venvDir = chosen ? path.resolve(chosen) : path.join(storageDir, 'trainer-venv');
    if (!existsSync(venvDir) && !(await this.confirmSetup(venvDir))) return undefined;
    return this.run(inputs, trainerDir, venvDir);
  }

  /** Takes over the training panel VS Code restored after a reload. */
  restorePanel(panel: vscode.WebviewPanel, state: unknown): void {
    this.panel.restore(panel, state);
  }

  dispose(): void {
    this.running?.abort();
    this.panel.dispose();
  }

  private async run(inputs: TrainInputs, trainerDir: string, venvDir: string): Promise<TrainOutcome> {
    // A retry offered by an earlier run's notice may be clicked while another run goes on.
    if (this.running) {
      const message = 'a training run is already in progress. Cancel it first.';
      void vscode.window.showWarningMessage(`EntroPO: ${message}`);
      return { status: 'failed', message };
    }
    const controller = new AbortController();
    this.running = controller;
    const runId = `train-${Date.now()}`;
    this.panel.start({ runId, method: inputs.method, baseModel: inputs.baseModel, data: inputs.data, out: inputs.out, status: 'setup',
      message: 'Preparing the Python environment...', points: [] });
    this.log.info(`fine-tuning ${inputs.method}: base ${inputs.baseModel}${inputs.quantize ? ` (${inputs.quantize})` : ''}, data ${inputs.data}, out ${inputs.out}${inputs.cpuOk ? ', on the CPU' : ''}`);
    let failureKind: string | undefined;
    try {
      const done = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `EntroPO: fine-tuning (${inputs.method})`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          const onEvent = this.eventHandler(progress, (kind) => { failureKind = kind; });
          progress.report({ message: 'preparing the Python environment (the first time downloads PyTorch, several GB)...' });
          const extras = inputs.quantize ? ['quantize'] : [];
          // The setting names it, or it is the extension's own.
          const setting = readSetting('pythonEnvironment').trim();
          const chosen = setting !== '' && path.resolve(setting) === venvDir;
          const python = await ensureTrainerEnv({ trainerDir, venvDir, chosen, extras }, onEvent, controller.signal);
          const loading = 'loading the base model and the data (a GGUF base is converted once, which takes a while)...';
          progress.report({ message: loading });
          this.panel.update({ message: `${loading[0].toUpperCase()}${loading.slice(1)}` });
          return runTrainer({ python, trainerDir, args: this.trainerArgs(inputs), signal: controller.signal, onEvent });
        });
      return this.succeed(done);
    } catch (error) {
      if (controller.signal.aborted || (error instanceof AgentError && error.reason === ErrorReason.Cancelled)) {
        this.log.info('training cancelled');
        this.panel.update({ status: 'cancelled', message: 'Cancelled.' });
        void vscode.window.showInformationMessage('EntroPO: training cancelled.');
        return { status: 'cancelled', message: 'Training was cancelled.' };
      }
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(message);
      this.panel.update({ status: 'failed', message });
      if (failureKind === 'no_gpu' && !inputs.cpuOk) {
        this.running = undefined;
        return this.offerCpu(inputs, trainerDir, venvDir, message);
      }
      if (failureKind === 'oom' && !inputs.quantize && !inputs.cpuOk) {
        this.running = undefined;
        return this.offerQuantized(inputs, trainerDir, venvDir, message);
      }
      void this.showError(message);
      return { status: 'failed', message };
    } finally {
      if (this.running === controller) this.running = undefined;
    }
  }

  /** Maps trainer events to the notification, the panel and the log. */
  private eventHandler(progress: Progress, onFailure: (kind: string) => void): (event: TrainEvent) => void {
    let lastStep = 0;
    return (event) => {
      switch (event.event) {
        case 'setup':
          this.log.info(`setup: ${event.line}`);
          if (event.line.trim()) this.panel.update({ message: `Setting up Python: ${event.line.trim().slice(0, 160)}` });
          return;
        case 'log':
          this.log.info(`trainer: ${event.line}`);
          return;
        case 'start':
          this.log.info(`training started: ${JSON.stringify({ ...event, config: undefined })}`);
          this.panel.update({ status: 'running', message: undefined, totalSteps: numberOr(event.total_steps) });
          progress.report({ message: 'training started' });
          return;
        case 'step': {
          const total = Math.max(1, event.total_steps);
          progress.report({ message: stepLine(event), increment: ((event.step - lastStep) / total) * 100 });
          lastStep = event.step;
          this.panel.step(toPoint(event), event.total_steps, numberOr(event.eta_s));
          if (event.step === 1 || event.step % 10 === 0 || event.step === event.total_steps) this.log.info(stepLine(event));
          return;
        }
        case 'error':
          this.log.error(`trainer error (${event.kind}): ${event.message}`);
          onFailure(event.kind);
          return;
        case 'done':
          this.log.info(`training done: adapter ${event.adapter_dir}`);
          return;
      }
    };
  }

  private trainerArgs(inputs: TrainInputs): string[] {
    return ['--method', inputs.method, '--base-model', inputs.baseModel, '--data', inputs.data, '--out', inputs.out,
      '--alpha', String(readSetting('trainAlpha')), '--beta', String(readSetting('trainBeta')),
      ...(inputs.cpuOk ? ['--cpu-ok'] : []), ...(inputs.quantize ? ['--quantize', inputs.quantize] : []), ...readSetting('trainExtraArgs')];
  }

  private succeed(done: TrainDone): TrainOutcome {
    const offers = serveOffers(done);
    this.panel.update({ status: 'done', message: `The adapter is in ${done.adapter_dir}.`, adapterDir: done.adapter_dir, vllmCommand: done.vllm_command,
      serveOffers: offers, etaS: 0 });
    if (done.gguf_adapter_note) this.log.info(`GGUF adapter: ${done.gguf_adapter_note}`);
    const actions = [...offers.map((o) => `Copy ${o.server} Command`), 'Reveal Adapter'];
    // The notice's buttons act on this run, whichever run the panel shows by the time one is clicked.
    const view = { adapterDir: done.adapter_dir, vllmCommand: done.vllm_command, serveOffers: offers };
    void vscode.window.showInformationMessage(`EntroPO: fine-tuning finished. The adapter is in ${done.adapter_dir}.`, ...actions).then((choice) => {
      const offer = offers.find((o) => choice === `Copy ${o.server} Command`);
      if (offer) return this.act(offer.server === 'vLLM' ? { type: 'copyVllmCommand' } : { type: 'copyServeCommand', server: offer.server }, view);
      if (choice === 'Reveal Adapter') return this.act({ type: 'revealAdapter' }, view);
      return undefined;
    });
    return { status: 'done', adapterDir: done.adapter_dir, ...(done.vllm_command ? { vllmCommand: done.vllm_command } : {}), serveOffers: offers };
  }

  private async confirmCpu(why: string): Promise<boolean> {
    const cpu = 'Run on CPU (tiny models only)';
    const choice = await vscode.window.showWarningMessage(`EntroPO: no CUDA GPU is visible here (${why}), and training a real model needs one. `
      + 'On the CPU only tiny test models finish in reasonable time.', cpu, 'Cancel');
    return choice === cpu;
  }

  private async offerCpu(inputs: TrainInputs, trainerDir: string, venvDir: string, message: string): Promise<TrainOutcome> {
    const cpu = 'Run on CPU (tiny models only)';
    const choice = await vscode.window.showErrorMessage('EntroPO: no CUDA GPU is visible, and training a real model needs one. '
      + 'On the CPU only tiny test models finish in reasonable time.', cpu, 'Open Log');
    if (choice === cpu) return this.run({ ...inputs, cpuOk: true }, trainerDir, venvDir);
    if (choice === 'Open Log') this.log.show(true);
    return { status: 'failed', message };
  }

  /** Out of GPU memory in bf16: QLoRA keeps the base in 4 bits (an 8B model at 12k tokens fits in 24 GB). */
  private async offerQuantized(inputs: TrainInputs, trainerDir: string, venvDir: string, message: string): Promise<TrainOutcome> {
    const retry = 'Retry in 4-bit (QLoRA)';
    const choice = await vscode.window.showErrorMessage(`EntroPO: ${message}`, { modal: false }, retry, 'Open Log');
    if (choice === retry) return this.run({ ...inputs, quantize: '4bit' }, trainerDir, venvDir);
    if (choice === 'Open Log') this.log.show(true);
    return { status: 'failed', message };
  }

  private async showError(message: string): Promise<void> {
    if (await vscode.window.showErrorMessage(`EntroPO: ${message}`, 'Open Log')) this.log.show(true);
  }

  private async confirmSetup(venvDir: string): Promise<boolean> {
    const choice = await vscode.window.showInformationMessage('Set up the trainer\'s Python environment?', { modal: true,
      detail: `The first training run installs PyTorch, Transformers, PEFT and Accelerate into ${venvDir}: several GB, downloaded from PyPI. Later runs reuse it.` }, 'Set Up and Train');
    return choice !== undefined;
  }

  private async onPanelMessage(message: FromTrainWebview): Promise<void> {
    if (message.type === 'cancel') this.running?.abort();
    else await this.act(message, this.panel.current);
  }

  // Copy a serve command or reveal the adapter of `view` (the panel's run, or the run a notice is about).
  private async act(message: FromTrainWebview, view: { adapterDir?: string; vllmCommand?: string; serveOffers?: ServeOffer[] } | undefined): Promise<void> {
    if (message.type === 'copyVllmCommand' && view?.vllmCommand) {
      await vscode.env.clipboard.writeText(view.vllmCommand);
      void vscode.window.showInformationMessage('EntroPO: copied the vLLM command. Then point "EntroPO: Configure Model" at the server, model name "entropo".');
    } else if (message.type === 'copyServeCommand') {
      const offer = view?.serveOffers?.find((o) => o.server === message.server);
      if (!offer) return;
      await vscode.env.clipboard.writeText(offer.command);
      void vscode.window.showInformationMessage(`EntroPO: copied the ${offer.server} command. Then point "EntroPO: Configure Model" at the server: ${offer.then}.`);
    } else if (message.type === 'revealAdapter' && view?.adapterDir) {
      const uri = vscode.Uri.file(view.adapterDir);
      // The OS file manager exists only for a local desktop editor; elsewhere show the adapter's config.
      if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) await vscode.commands.executeCommand('revealFileInOS', uri);
      else await vscode.window.showTextDocument(vscode.Uri.joinPath(uri, 'adapter_config.json'), { preview: true });
    }
  }
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function toPoint(step: TrainStep): TrainPoint {
  const n = (v: unknown) => numberOr(v) ?? null;
  return { step: step.step, loss: n(step.loss), rewardMargin: n(step.reward_margin), entropy: n(step.entropy), prefAccuracy: n(step.pref_accuracy) };
}

function stepLine(e: TrainStep): string {
  const parts = [`step ${e.step}/${e.total_steps}`];
  if (numberOr(e.loss) !== undefined) parts.push(`loss ${e.loss!.toFixed(4)}`);
  if (numberOr(e.reward_margin) !== undefined) parts.push(`margin ${e.reward_margin!.toFixed(3)}`);
  if (numberOr(e.eta_s) !== undefined) parts.push(`ETA ${formatEta(e.eta_s!)}`);
  return parts.join(' · ');
}

function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}
