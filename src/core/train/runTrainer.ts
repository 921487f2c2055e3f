import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { AgentError, ErrorReason } from '../errors.js';
import { scrubEnv } from '../node/scrubEnv.js';
import { spawnGroup } from '../process/groupProcess.js';
import { parseTrainLine, type TrainDone, type TrainError, type TrainEvent } from './trainEvents.js';

/** Where the trainer lives and which Python environment runs it. */
export interface TrainerLocation {
  /** The `trainer/` folder (pyproject.toml, setup.sh, the entropo_trainer package). */
  trainerDir: string;
  /** The virtual environment; default `trainer/.venv`. */
  venvDir?: string;
  /**
   * The user chose `venvDir` (a setting, `--venv`): one that runs another source checkout's trainer is then
   * used as it is when it has the extras, and never set up again from here (setup.sh).
   */
  chosen?: boolean;
  /** Optional dependency groups of `trainer/pyproject.toml` to install too, e.g. `quantize`. */
  extras?: string[];
}

/** The trainer's `--quantize` values: QLoRA with a 4-bit NF4 base (bitsandbytes, CUDA only). */
export const QUANTIZE_MODES = ['4bit'] as const;

/** The methods of `entropo train`. */
export const TRAIN_METHODS = ['entropo-dpo', 'entropo-kto', 'dpo', 'kto', 'judge'] as const;

/** Finds `trainer/` next to the running code: walks up from `from` until `trainer/pyproject.toml` appears. */
export function findTrainerDir(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'trainer', 'pyproject.toml'))) return path.join(dir, 'trainer');
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Creates or updates the trainer's Python environment with `trainer/setup.sh` (quick when up to date; the
 * first run downloads PyTorch) and returns its python. Missing Python or a failed install is a clear error.
 */
export async function ensureTrainerEnv(location: TrainerLocation, onEvent: (e: TrainEvent) => void, signal?: AbortSignal): Promise<string> {
  const env = { ...scrubEnv(process.env), ...(location.venvDir ? { ENTROPO_TRAINER_VENV: location.venvDir } : {}),
    ...(location.venvDir && location.chosen ? { ENTROPO_TRAINER_VENV_CHOSEN: '1' } : {}) };
  const lines: string[] = [];
  const stdout: string[] = [];
  const extras = location.extras?.length ? [location.extras.join(',')] : [];
  const code = await spawnLines('bash', [path.join(location.trainerDir, 'setup.sh'), ...extras], { env, signal }, (line, stream) => {
    lines.push(line);
    if (stream === 'stderr') onEvent({ event: 'setup', line });
    else stdout.push(line);
  });
  if (code.exitCode === 4) throw new AgentError(ErrorReason.Config, 'Python 3.10 or newer was not found: install python3 with venv (Debian: apt-get install python3-venv), or set PYTHON to an interpreter.');
  // The environment runs another checkout's trainer; setup.sh left it alone and said why.
  const said = lines.filter((l) => l.startsWith('error: ')).at(-1)?.slice('error: '.length);
  if (code.exitCode === 6 && said) throw new AgentError(ErrorReason.Config, said);
  if (code.exitCode !== 0) throw new AgentError(ErrorReason.Config, `Setting up the trainer's Python environment failed (exit ${code.exitCode ?? code.signal}): ${lines.slice(-3).join(' | ')}`);
  // setup.sh prints the interpreter as its one line on stdout; everything else goes to stderr.
  return stdout.filter((l) => l.trim()).at(-1)!.trim();
}

// The trainer's own settings by environment, which the scrub of ENTROPO_* secrets would drop: no secrets.
const TRAINER_VARIABLES = ['ENTROPO_GGUF_CACHE'];

function kept(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(TRAINER_VARIABLES.flatMap((k) => (env[k] ? [[k, env[k]!]] : [])));
}

/** How long a stopped trainer may take to end on its own (save nothing, end its workers) before SIGKILL. */
const STOP_GRACE_MS = 15_000;

/** Options of one training run. */
export interface RunTrainerOptions {
  python: string;
  trainerDir: string;
  /** Arguments of `python -m entropo_trainer.train`. */
  args: string[];
  signal?: AbortSignal;
  onEvent: (event: TrainEvent) => void;
  /** How long a cancelled trainer may take to end on SIGTERM before SIGKILL; default 15 s. */
  stopGraceMs?: number;
}

/** Runs the trainer as a child process, forwarding its events; returns the done event or throws a clear error. */
export async function runTrainer(options: RunTrainerOptions): Promise<TrainDone> {
  let done: TrainDone | undefined;
  let failure: TrainError | undefined;
  const tail: string[] = [];
  const result = await spawnLines(options.python, ['-m', 'entropo_trainer.train', ...options.args],
    { cwd: options.trainerDir, env: { ...scrubEnv(process.env), ...kept(process.env), PYTHONUNBUFFERED: '1' }, signal: options.signal, stopGraceMs: options.stopGraceMs },
    (line, stream) => {
      const event = stream === 'stdout' ? parseTrainLine(line) : { event: 'log' as const, line };
      if (event.event === 'done') done = event;
      if (event.event === 'error') failure = event;
      if (event.event === 'log') tail.splice(0, Math.max(0, tail.length - 19), line);
      options.onEvent(event);
    });
  if (done && result.exitCode === 0) return done;
  if (options.signal?.aborted) throw new AgentError(ErrorReason.Cancelled, 'Training was cancelled.');
  throw new AgentError(ErrorReason.Io, explain(result, failure, tail));
}

function explain(result: SpawnResult, failure: TrainError | undefined, tail: string[]): string {
  if (result.spawnError) return `Cannot start the trainer's Python (${result.spawnError}); run the setup again.`;
  if (result.signal) {
    return `The trainer was killed (${result.signal}); if nobody stopped it, the machine probably ran out of memory: try a smaller --batch-size or --max-length.`;
  }
  if (failure?.kind === 'oom') return `Out of GPU memory: ${failure.message} Try --quantize 4bit (QLoRA), --batch-size 1, a smaller --max-length, or more GPUs.`;
  if (failure?.kind === 'missing_package') return `A Python package is missing: ${failure.message} Run the trainer setup again.`;
  if (failure?.kind === 'no_gpu') return `No GPU found: ${failure.message}`;
  if (failure) return `Training failed (${failure.kind}): ${failure.message}`;
  return `The trainer exited with code ${result.exitCode} without finishing: ${tail.slice(-3).join(' | ') || 'no output'}`;
}

interface SpawnResult { exitCode: number | null; signal: string | null; spawnError?: string }

async function spawnLines(file: string, args: string[], options: { cwd?: string; env: Record<string, string>; signal?: AbortSignal; stopGraceMs?: number },
  onLine: (line: string, stream: 'stdout' | 'stderr') => void): Promise<SpawnResult> {
  // Own process group: cancelling stops the trainer and every worker accelerate started; SIGTERM lets it
  // end its own workers first.
  const started = spawnGroup(file, args, { cwd: options.cwd, env: options.env, noStdin: true });
  // A trainer stuck in native code (a CUDA call, a hung collective) that ignores SIGTERM is killed after a while.
  let hard: NodeJS.Timeout | undefined;
  const stop = () => {
    started.kill('SIGTERM');
    hard ??= setTimeout(() => started.kill('SIGKILL'), options.stopGraceMs ?? STOP_GRACE_MS);
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  createInterface({ input: started.child.stdout! }).on('line', (l) => onLine(l, 'stdout'));
  createInterface({ input: started.child.stderr! }).on('line', (l) => onLine(l, 'stderr'));
  const { code, signal, spawnError } = await started.exit;
  clearTimeout(hard);
  await started.closed;
  options.signal?.removeEventListener('abort', stop);
  return { exitCode: code, signal, spawnError };
}
