/**
 * runTrainer's process handling, with a stand-in for the trainer's Python (a shell script speaking its JSON
 * protocol): what reaches the trainer's environment, and a cancel of a trainer that ignores SIGTERM.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { runTrainer } from '../../../src/core/train/runTrainer.js';
import { tempDir } from '../../helpers/tempRepo.js';

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
