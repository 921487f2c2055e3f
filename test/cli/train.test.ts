import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../../src/core/errors.js';
import { isAlive } from '../../src/core/process/groupProcess.js';
import { ensureTrainerEnv, runTrainer } from '../../src/core/train/runTrainer.js';
import { progressBar } from '../../src/cli/trainCommand.js';
import { runCli, startCli } from '../helpers/cli.js';
import { PROJECT_ROOT, tempDir } from '../helpers/tempRepo.js';

const run = promisify(execFile);
const TRAINER = path.join(PROJECT_ROOT, 'trainer');
const FIXTURE = path.join(PROJECT_ROOT, 'schemas', 'fixtures', 'entropo-dpo.jsonl');

const cli = (args: string[]) => runCli(args, { OMP_NUM_THREADS: '1' });

/** The live processes of process group `group` (pgrep lists zombies too, which are dead). */
async function inGroup(group: number): Promise<number[]> {
  const listed = await run('pgrep', ['-g', String(group)]).then((r) => r.stdout, () => '');
  return listed.split('\n').filter(Boolean).map(Number).filter(isAlive);
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

describe('the progress bar of entropo train', () => {
  it('leaves out a figure the step could not measure (null), as a KTO batch without a rejected example has no margin', () => {
    const lines: string[] = [];
    const render = progressBar({ isTTY: false, write: (text: string) => lines.push(text) > 0 } as never);
    render({ event: 'step', step: 2, total_steps: 2, loss: 0.5, reward_margin: null, pref_accuracy: null, entropy: 1.25, eta_s: 0 });
    expect(lines).toEqual(['[########################] 2/2  loss 0.5000  entropy 1.250  ETA 0s\n']);
  });
});

// The trainer's environment is created by the project's test script before this suite runs (trainer/setup.sh);
// here it is only checked, so a missing environment fails clearly rather than downloading PyTorch mid-test.
describe('entropo train (tiny model on the CPU)', () => {
  const work = tempDir('entropo-train-');
  let python = '';
  let model = '';
  beforeAll(async () => {
    python = await ensureTrainerEnv({ trainerDir: TRAINER }, () => undefined);
    model = path.join(work.dir, 'tiny-model');
    await run(python, ['-m', 'entropo_trainer.tiny', model, '--corpus', FIXTURE], { cwd: TRAINER });
  }, 600_000);
  afterAll(() => work.cleanup());

  it('trains from an exported file to a saved adapter, with a progress bar and the vLLM command', async () => {
    const out = path.join(work.dir, 'adapter-out');
    const result = await cli(['train', '--method', 'entropo-dpo', '--base-model', model, '--data', FIXTURE, '--out', out, '--cpu-ok', '--', '--max-steps', '2', '--grad-accum', '1']);
    expect(result.stderr).toMatch(/entropo: training entropo-dpo on /);
    expect(result.stderr).toMatch(/\[#+\] 2\/2 {2}loss \d+\.\d{4}/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Adapter: .*adapter/m);
    expect(result.stdout).toMatch(/^Serve it with vLLM:\n {2}vllm serve .* --enable-lora --lora-modules .*\n {2}then endpoint http:\/\/localhost:8000\/v1, model "entropo"$/m);
    // A Hugging Face base: the GGUF adapter is written; llama.cpp and Ollama need the base as GGUF first
    expect(result.stdout).toContain(`GGUF adapter: ${path.join(out, 'adapter.gguf')}\n`);
    expect(result.stdout).toMatch(/\(the base is a Hugging Face directory: convert it to GGUF .*\)\n$/);
    expect(result.stdout).not.toMatch(/^Serve it with (llama\.cpp|Ollama)/m);
    expect(existsSync(path.join(out, 'adapter', 'adapter_config.json'))).toBe(true);
  }, 300_000);

  it('says clearly when there is no GPU and --cpu-ok was not given', async () => {
    const result = await cli(['train', '--method', 'dpo', '--base-model', model, '--data', FIXTURE, '--out', path.join(work.dir, 'x')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/entropo: No GPU found: /);
  }, 300_000);

  it('reports bad data and a Python that cannot start', async () => {
    const bad = await cli(['train', '--method', 'dpo', '--base-model', model, '--data', path.join(PROJECT_ROOT, 'README.md'), '--out', path.join(work.dir, 'y'), '--cpu-ok']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/entropo: Training failed \(data\): /);
    const error = await runTrainer({ python: path.join(work.dir, 'no-such-python'), trainerDir: TRAINER, args: [], onEvent: () => undefined })
      .then(() => undefined, (e: unknown) => e as AgentError);
    expect(error?.message).toMatch(/^Cannot start the trainer's Python \(spawn .*no-such-python ENOENT\); run the setup again\.$/);
  }, 300_000);

  it('refuses an unknown --quantize mode, and 4-bit without a GPU says why before loading anything', async () => {
    const wrong = await cli(['train', '--method', 'dpo', '--base-model', model, '--data', FIXTURE, '--quantize', '8bit']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--quantize must be one of none, 4bit, got "8bit"\./);
    const events: string[] = [];
    const error = await runTrainer({ python, trainerDir: TRAINER, onEvent: (e) => events.push(e.event),
      args: ['--method', 'dpo', '--base-model', model, '--data', FIXTURE, '--out', path.join(work.dir, 'q'), '--quantize', '4bit', '--cpu-ok'] })
      .then(() => undefined, (e: unknown) => e as AgentError);
    expect(error?.message).toMatch(/^Training failed \(usage\): --quantize 4bit needs a CUDA GPU/);
    expect(events).not.toContain('start');
    expect(existsSync(path.join(work.dir, 'q'))).toBe(false);
  }, 300_000);

  it('is refused with a usage error for an unknown method', async () => {
    const result = await cli(['train', '--method', 'ppo', '--base-model', model, '--data', FIXTURE]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--method must be one of entropo-dpo, entropo-kto, dpo, kto, judge/);
    // Paths that cannot be right are refused before the trainer's environment is set up (gigabytes of downloads).
    const noModel = await cli(['train', '--base-model', path.join(work.dir, 'nope'), '--data', FIXTURE]);
    expect([noModel.code, noModel.stderr]).toEqual([2, `entropo: --base-model ${path.join(work.dir, 'nope')} does not exist: give a model's folder or a .gguf file.\n`]);
    const noData = await cli(['train', '--base-model', model, '--data', path.join(work.dir, 'prefs.jsonl')]);
    expect([noData.code, noData.stderr]).toEqual([2, `entropo: --data ${path.join(work.dir, 'prefs.jsonl')} is not a file: give the JSON lines \`entropo export\` wrote.\n`]);
  });

  it('explains a trainer killed from outside (as the out-of-memory killer does)', async () => {
    const out = path.join(work.dir, 'killed-run');
    const error = await runTrainer({ python, trainerDir: TRAINER,
      args: ['--method', 'dpo', '--base-model', model, '--data', FIXTURE, '--out', out, '--cpu-ok'],
      onEvent: (e) => { if (e.event === 'start') void run('pkill', ['-KILL', '-f', `entropo_trainer.train .*${out}`]); } })
      .then(() => undefined, (e: unknown) => e as AgentError);
    expect(error?.message).toMatch(/^The trainer was killed \(SIGKILL\); if nobody stopped it, the machine probably ran out of memory/);
  }, 300_000);

  it('stops the trainer on cancel', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const started = runTrainer({ python, trainerDir: TRAINER, signal: controller.signal,
      args: ['--method', 'dpo', '--base-model', model, '--data', FIXTURE, '--out', path.join(work.dir, 'z'), '--cpu-ok'],
      onEvent: (e) => { seen.push(e.event); if (e.event === 'start') controller.abort(); } });
    const error = await started.then(() => undefined, (e: unknown) => e as AgentError);
    expect(error?.message).toBe('Training was cancelled.');
    expect(seen).toContain('start');
    // From the command line: Ctrl-C is a cancel (exit 130), not a failed training.
    const running = startCli(['train', '--method', 'dpo', '--base-model', model, '--data', FIXTURE, '--out', path.join(work.dir, 'c'), '--cpu-ok', '--', '--max-steps', '100000']);
    await running.waitForStderr(/entropo: training dpo on /, 120_000);
    running.child.kill('SIGINT');
    expect((await running.exited).code).toBe(130);
    expect(running.output.stderr).toMatch(/^entropo: cancelled; no adapter was written$/m);
  }, 300_000);

  // `timeout`, CI and a closed terminal send these; the trainer leads a process group of its own, which a
  // signal to the CLI alone never reaches, so without a stop it would train on with nobody to see the result.
  it.each([['SIGTERM', 143], ['SIGHUP', 129]] as const)('%s stops the trainer and everything in its process group, as Ctrl-C does, exit %i', async (signal, code) => {
    const out = path.join(work.dir, `stopped-${signal}`);
    const running = startCli(['train', '--method', 'dpo', '--base-model', model, '--data', FIXTURE, '--out', out, '--cpu-ok', '--', '--max-steps', '100000'], { OMP_NUM_THREADS: '1' });
    const trainer = `entropo_trainer.train .*${out}`;
    let group: number | undefined;
    try {
      await running.waitForStderr(/entropo: training dpo on /, 120_000);
      // The trainer leads a process group of its own.
      group = Number((await run('pgrep', ['-P', String(running.child.pid), '-f', trainer])).stdout.trim());
      expect(Number((await run('ps', ['-o', 'pgid=', '-p', String(group)])).stdout.trim())).toBe(group);
      running.child.kill(signal);
      const exited = await running.exited;
      expect(await inGroup(group)).toEqual([]);
      expect(exited).toEqual({ code, signal: null });
      expect(running.output.stderr).toMatch(new RegExp(`^entropo: ${signal}: cancelled; no adapter was written$`, 'm'));
      expect(existsSync(path.join(out, 'adapter'))).toBe(false);
    } finally {
      // Without the stop, the trainer would outlive the test.
      if (group) killGroup(group);
      await run('pkill', ['-KILL', '-f', trainer]).catch(() => undefined);
      running.child.kill('SIGKILL');
    }
  }, 300_000);
});
