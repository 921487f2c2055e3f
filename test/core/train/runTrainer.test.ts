/**
 * runTrainer's process handling, with a stand-in for the trainer's Python (a shell script speaking its JSON
 * protocol): what reaches the trainer's environment, and a cancel of a trainer that ignores SIGTERM. And
 * the setup of an environment that is not the product's own.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
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
   * editable install of the trainer folder of another tree, a source checkout when `checkout` is set.
   */
  function foreignVenv(checkout: boolean): { venvDir: string; theirs: string } {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    const theirs = path.join(temp.dir, 'their-checkout', 'trainer');
    mkdirSync(path.join(theirs, 'entropo_trainer'), { recursive: true });
    writeFileSync(path.join(theirs, 'entropo_trainer', '__init__.py'), '');
    if (checkout) mkdirSync(path.join(temp.dir, 'their-checkout', '.git'));
    const venvDir = path.join(temp.dir, 'venv');
    execFileSync('python3', ['-m', 'venv', '--without-pip', venvDir]);
    const lib = path.join(venvDir, 'lib');
    writeFileSync(path.join(lib, readdirSync(lib)[0], 'site-packages', 'their_trainer.pth'), `${theirs}\n`);
    return { venvDir, theirs };
  }

  const trainerDir = path.join(PROJECT_ROOT, 'trainer');

  it('leaves an environment that runs another checkout\'s trainer as it is, and says how to add what is missing', async () => {
    const { venvDir, theirs } = foreignVenv(true);
    const setup = ensureTrainerEnv({ trainerDir, venvDir, extras: ['quantize'] }, () => undefined);
    await expect(setup).rejects.toThrow(AgentError);
    await expect(setup).rejects.toThrow(`runs the trainer of the checkout ${theirs}`);
    await expect(setup).rejects.toThrow(`${venvDir}/bin/python -m pip install -e '${theirs}[quantize]'`);
    expect(existsSync(path.join(venvDir, '.entropo-setup-stamp'))).toBe(false);
  });

  it('updates one whose trainer came from a copy that is no checkout (an earlier version of the extension)', async () => {
    const { venvDir } = foreignVenv(false);
    // It goes on to install, which this environment without pip cannot: the failure of the install, not the refusal.
    const setup = ensureTrainerEnv({ trainerDir, venvDir, extras: ['quantize'] }, () => undefined);
    await expect(setup).rejects.toThrow(/Setting up the trainer's Python environment failed \(exit 1\).*No module named pip/);
  });
});
