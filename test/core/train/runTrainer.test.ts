/**
 * runTrainer's process handling, with a stand-in for the trainer's Python (a shell script speaking its JSON
 * protocol): what reaches the trainer's environment, and a cancel of a trainer that ignores SIGTERM. And
 * the setup of an environment that is not the product's own.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { ensureTrainerEnv, runTrainer } from '../../../src/core/train/runTrainer.js';
import { PROJECT_ROOT, tempDir } from '../../helpers/tempRepo.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A stand-in "python" whose body is `script` (bash); `python -m entropo_trainer.train ...` runs it. */
function fakePython(script: string): { python: string; dir: string } {
  const temp = tempDir();
  cleanups.push(temp.cleanup);
  const python = path.join(temp.dir, 'python');
  writeFileSync(python, `#!/usr/bin/env bash\n${script}\n`);
  chmodSync(python, 0o755);
  return { python, dir: temp.dir };
}

describe('runTrainer', () => {
  it('passes the trainer\'s own ENTROPO_GGUF_CACHE through, and no key', async () => {
    const { python, dir } = fakePython(`printf '{"event": "done", "adapter_dir": "%s|%s", "merged_dir": null, "steps": 1}\\n' "$ENTROPO_GGUF_CACHE" "\${ENTROPO_API_KEY:-none}"`);
    const saved = { cache: process.env.ENTROPO_GGUF_CACHE, key: process.env.ENTROPO_API_KEY };
    process.env.ENTROPO_GGUF_CACHE = '/models/gguf-cache';
    process.env.ENTROPO_API_KEY = 'sk-not-for-the-trainer';
    try {
      const done = await runTrainer({ python, trainerDir: dir, args: [], onEvent: () => undefined });
      expect(done.adapter_dir).toBe('/models/gguf-cache|none');
    } finally {
      for (const [k, v] of [['ENTROPO_GGUF_CACHE', saved.cache], ['ENTROPO_API_KEY', saved.key]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('a cancelled trainer that ignores SIGTERM is killed after the grace period, and the cancel is said as such', async () => {
    const { python, dir } = fakePython(`trap '' TERM\necho '{"event": "start"}'\nwhile true; do sleep 0.1; done`);
    const controller = new AbortController();
    const events: string[] = [];
    const started = Date.now();
    const running = runTrainer({ python, trainerDir: dir, args: [], signal: controller.signal, stopGraceMs: 500, onEvent: (e) => {
      events.push(e.event);
      if (e.event === 'start') controller.abort();
    } });
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.Cancelled);
    expect(events).toContain('start');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('ensureTrainerEnv', () => {
  /**
   * A virtual environment (without pip: nothing can be installed into it) whose `entropo_trainer` is an
   * editable install of the trainer folder of another tree, a source checkout when `checkout` is set, whose
   * own setup installed `extras` when given.
   */
  function foreignVenv(checkout: boolean, extras?: string): { venvDir: string; theirs: string } {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    const theirs = path.join(temp.dir, 'their checkout', 'trainer');
    mkdirSync(path.join(theirs, 'entropo_trainer'), { recursive: true });
    writeFileSync(path.join(theirs, 'entropo_trainer', '__init__.py'), '');
    if (checkout) mkdirSync(path.join(temp.dir, 'their checkout', '.git'));
    const venvDir = path.join(temp.dir, 'venv');
    execFileSync('python3', ['-m', 'venv', '--without-pip', venvDir]);
    const lib = path.join(venvDir, 'lib');
    writeFileSync(path.join(lib, readdirSync(lib)[0], 'site-packages', 'their_trainer.pth'), `${theirs}\n`);
    // Their setup's stamp: another pyproject.toml's hash, and the extras it installed
    if (extras !== undefined) writeFileSync(path.join(venvDir, '.entropo-setup-stamp'), `${'0'.repeat(64)}\n${extras}\n`);
    return { venvDir, theirs };
  }

  const trainerDir = path.join(PROJECT_ROOT, 'trainer');
  const quiet = () => undefined;

  it('leaves a chosen environment that runs another checkout\'s trainer as it is, and says how to set it up there', async () => {
    const { venvDir, theirs } = foreignVenv(true, 'test');
    const setup = ensureTrainerEnv({ trainerDir, venvDir, chosen: true, extras: ['quantize'] }, quiet);
    await expect(setup).rejects.toThrow(AgentError);
    await expect(setup).rejects.toThrow(`runs the trainer of the checkout ${theirs}`);
    await expect(setup).rejects.toThrow(`ENTROPO_TRAINER_VENV='${venvDir}' bash '${theirs}/setup.sh' quantize`);
    expect(readFileSync(path.join(venvDir, '.entropo-setup-stamp'), 'utf8')).toMatch(/^0{64}\ntest\n$/);
  });

  it('uses such an environment as it is once its own setup installed the extras asked for', async () => {
    const { venvDir } = foreignVenv(true, 'test,quantize');
    const lines: string[] = [];
    const python = await ensureTrainerEnv({ trainerDir, venvDir, chosen: true, extras: ['quantize'] }, (e) => { if (e.event === 'setup') lines.push(e.line); });
    expect(python).toBe(path.join(venvDir, 'bin', 'python'));
    expect(lines.join('\n')).toMatch(/as it is/);
  });

  it('sets up its own environments, and one whose trainer came from a copy that is no checkout (an earlier version of the extension)', async () => {
    // It goes on to install, which these environments without pip cannot: the failure of the install, not a refusal.
    const failed = /Setting up the trainer's Python environment failed \(exit 1\).*No module named pip/;
    await expect(ensureTrainerEnv({ trainerDir, venvDir: foreignVenv(true).venvDir, extras: ['quantize'] }, quiet)).rejects.toThrow(failed);
    await expect(ensureTrainerEnv({ trainerDir, venvDir: foreignVenv(false).venvDir, chosen: true, extras: ['quantize'] }, quiet)).rejects.toThrow(failed);
  });
});
