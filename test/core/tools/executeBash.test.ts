import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { executeBash } from '../../../src/core/tools/executeBash.js';
import { tempDir } from '../../helpers/tempRepo.js';
import { isRunning, toolContext } from '../../helpers/toolContext.js';


describe('execute_bash', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  function setup(timeoutMs = 10_000) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return { dir: t.dir, ctx: toolContext(t.dir, { toolTimeoutMs: timeoutMs }) };
  }

  it('runs in the repository root and reports exit code, stdout and stderr', async () => {
    const { dir, ctx } = setup();
    const { observation } = await executeBash.run({ cmd: 'pwd; echo oops >&2; exit 3' }, ctx);
    expect(observation).toMatch(/^Exit code: 3/);
    expect(observation).toContain(`[STDOUT]\n${ctx.workspace.root}`);
    expect(observation).toContain('[STDERR]\noops');
    expect(dir).toBeTruthy();
  });

  it('kills the whole process tree on timeout', async () => {
    const { dir, ctx } = setup(700);
    const started = Date.now();
    const { observation } = await executeBash.run({ cmd: '(sleep 30 & echo $! > grandchild.pid; wait) & sleep 30' }, ctx);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(observation).toMatch(/timed out after 1 s and was killed/);
    const grandchild = Number(readFileSync(path.join(dir, 'grandchild.pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(grandchild).toBeGreaterThan(0);
    expect(isRunning(grandchild)).toBe(false);
  });

  it('kills background children left behind by a finished command', async () => {
    const { dir, ctx } = setup();
    await executeBash.run({ cmd: 'sleep 30 & echo $! > bg.pid' }, ctx);
    const pid = Number(readFileSync(path.join(dir, 'bg.pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(pid)).toBe(false);
  });

  it('stops on cancel with a Cancelled error', async () => {
    const { ctx } = setup();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const error = await executeBash.run({ cmd: 'sleep 30' }, { ...ctx, signal: controller.signal }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.Cancelled);
  });

  it('clips long output and hides secrets from the environment', async () => {
    const { ctx } = setup();
    process.env.ENTROPO_API_KEY = 'sk-test-secret-value';
    process.env.MY_SERVICE_TOKEN = 'tok-123';
    try {
      const { observation } = await executeBash.run({ cmd: 'env; seq 1 20000' }, ctx);
      expect(observation).not.toContain('sk-test-secret-value');
      expect(observation).not.toContain('tok-123');
      expect(observation).toMatch(/response clipped/);
      expect(observation.length).toBeLessThan(11_000);
    } finally {
      delete process.env.ENTROPO_API_KEY;
      delete process.env.MY_SERVICE_TOKEN;
    }
  });
});
