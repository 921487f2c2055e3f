import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bwrapProcess, JOIN_FAILED_EXIT } from '../../../src/core/sandbox/bwrapProcess.js';
import { cleanup, sandbox, tempDir } from './helpers.js';

const BWRAP = 'bwrap';

describe.skipIf(!sandbox.available)('bwrapProcess', () => {
  afterAll(cleanup);

  const sandboxArgs = (dir: string, ...command: string[]) =>
    ['--ro-bind', '/', '/', '--dev', '/dev', '--bind', dir, dir, '--unshare-pid', '--die-with-parent', '--', ...command];

  it('holds the command back until beforeStart has resolved, and hands it the sandbox init\'s host pid', async () => {
    const dir = tempDir('entropo-sbx-gate-');
    const marker = join(dir, 'ran');
    let seenPid = 0;
    let ranEarly = true;
    const result = await bwrapProcess(BWRAP, sandboxArgs(dir, 'sh', '-c', `echo started > ${marker}; echo out; echo err >&2`), {
      cwd: dir, timeoutMs: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    }, async (pid) => {
      seenPid = pid;
      // The init exists (a bwrap process of ours) while nothing of the command has run yet.
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      await new Promise((resolve) => setTimeout(resolve, 300));
      ranEarly = existsSync(marker);
      expect(status).toMatch(/^Name:\s+bwrap$/m);
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toBe('err\n');
    expect(seenPid).toBeGreaterThan(1);
    expect(ranEarly).toBe(false);
    expect(readFileSync(marker, 'utf8')).toBe('started\n');
  });

  it('does not run the command when beforeStart fails, and says why with exit code 125', async () => {
    const dir = tempDir('entropo-sbx-gate-');
    const marker = join(dir, 'ran');
    const result = await bwrapProcess(BWRAP, sandboxArgs(dir, 'touch', marker), {
      cwd: dir, timeoutMs: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    }, async () => { throw new Error('cgroup.procs: Permission denied'); });
    expect(result.exitCode).toBe(JOIN_FAILED_EXIT);
    expect(result.signal).toBeNull();
    expect(result.stderr).toContain('[sandbox] The command did not start: it could not be placed in its cgroup (cgroup.procs: Permission denied).');
    expect(existsSync(marker)).toBe(false);
  });

  it('reports bwrap\'s own failure when the sandbox cannot be built', async () => {
    const dir = tempDir('entropo-sbx-gate-');
    const result = await bwrapProcess(BWRAP, ['--ro-bind', join(dir, 'missing'), '/x', '--', 'true'], {
      cwd: dir, timeoutMs: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    }, async () => undefined);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^bwrap: Can't find source path .*missing/);
    expect(result.stderr).not.toContain('[sandbox]');
  });

  it('times out a gated command like any other', async () => {
    const dir = tempDir('entropo-sbx-gate-');
    const result = await bwrapProcess(BWRAP, sandboxArgs(dir, 'sleep', '30'), {
      cwd: dir, timeoutMs: 500, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    }, async () => undefined);
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    expect(result.durationMs).toBeLessThan(5000);
  });
});
