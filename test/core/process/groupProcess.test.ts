import { describe, expect, it } from 'vitest';
import { isAlive, runProcess } from '../../../src/core/process/groupProcess.js';

describe('runProcess', () => {
  it('returns the exit code and both streams, and feeds stdin', async () => {
    const run = await runProcess('bash', ['-c', 'cat; echo err >&2; exit 3'], { stdin: 'hello\n' });
    expect(run).toMatchObject({ exitCode: 3, stdout: 'hello\n', stderr: 'err\n', timedOut: false, cancelled: false, truncated: false });
  });

  it('a timeout kills the whole group, grandchildren included', async () => {
    const run = await runProcess('bash', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
    expect(run.timedOut).toBe(true);
    expect(run.signal).toBe('SIGKILL');
    const grandchild = Number(run.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isAlive(grandchild)).toBe(false);
  });

  it('a command that leaves a process behind in its group ends it when it exits', async () => {
    const run = await runProcess('bash', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!']);
    expect(run.exitCode).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isAlive(Number(run.stdout.trim()))).toBe(false);
  });

  it('cancels on the AbortSignal, also one aborted before the start', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const run = await runProcess('sleep', ['30'], { signal: controller.signal });
    expect(run.cancelled).toBe(true);
    const early = await runProcess('sleep', ['30'], { signal: AbortSignal.abort() });
    expect(early.cancelled).toBe(true);
    expect(early.durationMs).toBeLessThan(5000);
  });

  it('clips output at the cap, or stops the child with overflow "stop"', async () => {
    const clipped = await runProcess('bash', ['-c', 'head -c 5000 /dev/zero; echo done >&2'], { maxOutputBytes: 1000 });
    expect(clipped).toMatchObject({ exitCode: 0, truncated: true, stderr: 'done\n' });
    expect(clipped.stdout.length).toBe(1000);
    const stopped = await runProcess('bash', ['-c', 'yes'], { maxOutputBytes: 1000, overflow: 'stop', killSignal: 'SIGTERM' });
    expect(stopped).toMatchObject({ truncated: true, signal: 'SIGTERM' });
  });

  it('says why a program could not start', async () => {
    const run = await runProcess('/nonexistent/program', []);
    expect(run.exitCode).toBeNull();
    expect(run.spawnError).toMatch(/ENOENT/);
  });
});

describe('isAlive', () => {
  it('knows this process and refuses pids that cannot be', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(0)).toBe(false);
    expect(isAlive(-5)).toBe(false);
    expect(isAlive(2 ** 22 + 7)).toBe(false);
  });
});
