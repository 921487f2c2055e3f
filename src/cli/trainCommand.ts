import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { isAbort } from '../core/errors.js';
import { TRAIN_SETTINGS } from '../core/settings/settings.js';
import { ensureTrainerEnv, findTrainerDir, runTrainer, TRAIN_METHODS } from '../core/train/runTrainer.js';
import { serveOffers } from '../core/train/serveOffers.js';
import type { TrainDone, TrainEvent } from '../core/train/trainEvents.js';
import { signalExitCode } from './exitCodes.js';
import { parseFlags } from './options.js';
import { offered, settingFlags, settingsFromFlags } from './settingFlags.js';
import { abortOnSignals } from './sigint.js';
import { UsageError } from './usageError.js';

const USAGE = `Usage: entropo train --method ${TRAIN_METHODS.join('|')} --base-model DIR|FILE.gguf --data FILE [--out DIR] [options] [-- TRAINER ARGS]

Fine-tunes a local Hugging Face model, or the GGUF file a laptop server runs, on exported preference data
(entropo export) with LoRA, on this machine's GPU, and prints the commands that serve the adapter: vLLM's,
and for a GGUF base llama.cpp's (--lora) and an Ollama Modelfile (ADAPTER). The first run creates the trainer's
Python environment (PyTorch and friends, several GB). Arguments after -- go to the trainer as they are
(e.g. -- --length-normalize --max-length 8192); trainer/README.md lists them.`;

/** The trainer's settings (its extra arguments are the ones after --). */
const TRAIN_FLAGS = offered(TRAIN_SETTINGS);

const FLAGS = {
  method: { type: 'string', value: 'NAME', help: `${TRAIN_METHODS.join(', ')} (default entropo-dpo).` },
  'base-model': { type: 'string', value: 'DIR|FILE', help: 'A local Hugging Face causal LM directory, or a GGUF file (dequantized; converted once).' },
  data: { type: 'string', value: 'FILE', help: 'Exported JSON lines (entropo export).' },
  out: { type: 'string', value: 'DIR', help: 'Output folder for the adapter (default: ./entropo-adapter-<method>).' },
  'cpu-ok': { type: 'boolean', help: 'Allow training without a GPU (only sensible for tiny smoke runs).' },
  ...settingFlags(TRAIN_FLAGS),
} as const;

/** `entropo train`: the trainer as a child process, with a progress bar. */
export async function trainCommand(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const passthrough = split >= 0 ? argv.slice(split + 1) : [];
  const flags = parseFlags(split >= 0 ? argv.slice(0, split) : argv, USAGE, FLAGS);
  if (!flags) return 0;
  const method = String(flags.method ?? 'entropo-dpo');
  if (!(TRAIN_METHODS as readonly string[]).includes(method)) throw new UsageError(`--method must be one of ${TRAIN_METHODS.join(', ')}.`);
  if (!flags['base-model'] || !flags.data) throw new UsageError('--base-model DIR|FILE.gguf and --data FILE are required.');
  // Checked before the trainer's environment is set up, which can download gigabytes first.
  const baseModel = path.resolve(String(flags['base-model']));
  const data = path.resolve(String(flags.data));
  if (!existsSync(baseModel)) throw new UsageError(`--base-model ${baseModel} does not exist: give a model's folder or a .gguf file.`);
  if (!existsSync(data) || !statSync(data).isFile()) throw new UsageError(`--data ${data} is not a file: give the JSON lines \`entropo export\` wrote.`);
  const settings = settingsFromFlags(flags, TRAIN_FLAGS);
  const quantize = settings.quantize === 'none' ? undefined : settings.quantize;
  const trainerDir = findTrainerDir(__dirname);
  if (!trainerDir) throw new UsageError('The trainer (trainer/pyproject.toml) was not found next to this program.');
  // Ctrl-C, SIGTERM or SIGHUP stop the trainer's whole process group: it runs in a group of its own, which
  // a signal sent to this process alone never reaches.
  const controller = new AbortController();
  const signals = abortOnSignals(controller);
  const render = progressBar(process.stderr);
  try {
    const venvDir = settings.pythonEnvironment || undefined;
    const python = await ensureTrainerEnv({ trainerDir, venvDir, chosen: venvDir !== undefined, extras: quantize ? ['quantize'] : [] }, render, controller.signal);
    const out = path.resolve(String(flags.out ?? `entropo-adapter-${method}`));
    const done = await runTrainer({
      python, trainerDir, signal: controller.signal, onEvent: render,
      args: ['--method', method, '--base-model', baseModel, '--data', data,
        '--out', out, '--alpha', String(settings.trainAlpha), '--beta', String(settings.trainBeta),
        ...(flags['cpu-ok'] ? ['--cpu-ok'] : []), ...(quantize ? ['--quantize', quantize] : []), ...passthrough],
    });
    process.stdout.write(servingText(done));
    return 0;
  } catch (error) {
    // A signal while the environment was set up or the trainer ran: cancelled, not a failure of either.
    const signal = signals.received();
    if (!signal) throw error;
    const why = isAbort(error) ? '' : ` (${error instanceof Error ? error.message : String(error)})`;
    process.stderr.write(`entropo: ${signal === 'SIGINT' ? '' : `${signal}: `}cancelled${why}; no adapter was written\n`);
    return signalExitCode(signal);
  } finally {
    signals.stop();
  }
}

/** The adapter's folders and every way to serve it, for stdout. */
function servingText(done: TrainDone): string {
  const lines = [`Adapter: ${done.adapter_dir}`];
  if (done.gguf_adapter) lines.push(`GGUF adapter: ${done.gguf_adapter}`);
  for (const offer of serveOffers(done)) lines.push(`Serve it with ${offer.server}:`, `  ${offer.command}`, `  then ${offer.then}`);
  if (done.gguf_adapter_note) lines.push(`(${done.gguf_adapter_note})`);
  return `${lines.join('\n')}\n`;
}

/** Renders trainer events on stderr: a bar with loss, reward margin, accuracy, entropy and ETA; exported for its test. */
export function progressBar(stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>): (event: TrainEvent) => void {
  const tty = stream.isTTY === true;
  let lastLine = 0;
  return (event) => {
    if (event.event === 'setup') stream.write(`setup: ${event.line}\n`);
    else if (event.event === 'start') stream.write(`entropo: training ${event.method} on ${event.base_model}\n`);
    else if (event.event === 'step') {
      const width = 24;
      const filled = Math.round((event.step / Math.max(1, event.total_steps)) * width);
      // A figure the step could not measure (a margin of a batch without a rejected example) comes as null.
      const shown = (label: string, value: number | null | undefined, digits: number) => (typeof value === 'number' ? `${label} ${value.toFixed(digits)}` : '');
      const facts = [shown('loss', event.loss, 4), shown('margin', event.reward_margin, 3), shown('acc', event.pref_accuracy, 2), shown('entropy', event.entropy, 3),
        typeof event.eta_s === 'number' ? `ETA ${Math.round(event.eta_s)}s` : ''].filter(Boolean).join('  ');
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${event.step}/${event.total_steps}  ${facts}`;
      if (tty) stream.write(`\r${line}`);
      else if (event.step === event.total_steps || Date.now() - lastLine > 2000) {
        stream.write(`${line}\n`);
        lastLine = Date.now();
      }
      if (tty && event.step === event.total_steps) stream.write('\n');
    } else if (event.event === 'error') stream.write(`\ntrainer error (${event.kind}): ${event.message}\n`);
  };
}
