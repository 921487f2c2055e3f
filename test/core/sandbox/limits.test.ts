import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import { SandboxedProcessRunner } from '../../../src/core/sandbox/sandboxedProcessRunner.js';
import type { SandboxSupport } from '../../../src/core/sandbox/sandboxTypes.js';
import { cleanup, hostProcesses, sandbox, tempDir } from './helpers.js';

const MIB = 1024 ** 2;
const LIMITS = { memoryBytes: 512 * MIB, maxProcesses: 32 };

// Forks up to 200 sleeping children (a fork bomb with a cap, so a broken limit cannot take the machine down)
// and reports how many forks succeeded before the first failure.
const BOUNDED_FORKS = `python3 -c '
import os, sys, time
started = 0
for i in range(200):
    try:
        pid = os.fork()
    except OSError as e:
        print("fork failed after", started, "children:", e.strerror)
        break
    if pid == 0:
        time.sleep(float(sys.argv[1]))
        os._exit(0)
    started += 1
else:
    print("all 200 forks succeeded")
'`;

// Three processes that each fill 300 MiB (touched, so resident): 900 MiB together, under 512 MiB each.
const THREE_HOGS = `python3 -c '
import os, time
kids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        block = b"x" * (300 * 1024 * 1024)
        time.sleep(2)
        os._exit(0)
    kids.append(pid)
print(sorted(os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in kids))
'`;

describe.skipIf(!sandbox.available)('SandboxedProcessRunner: resource limits', () => {
  let support: SandboxSupport;
  let worktree: string;
  let runner: SandboxedProcessRunner;
  const run = (cmd: string, timeoutMs = 30_000) => runner.shell(cmd, { cwd: worktree, timeoutMs });

  beforeAll(async () => {
    support = await detectSandbox();
    worktree = tempDir('entropo-sbx-limits-');
    runner = new SandboxedProcessRunner({ writable: [worktree], limits: LIMITS }, support);
  });

  afterAll(async () => {
    await runner.dispose();
    cleanup();
  });

  it('ends a process that asks for 4 GiB with a MemoryError, at a 512 MiB limit', async () => {
    const result = await run('python3 -c "x = bytearray(4 * 1024 ** 3); print(len(x))"');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/MemoryError/);
    expect(result.timedOut).toBe(false);
    // The same command runs when the limit allows it (here: at least 4 GiB are not needed, 64 MiB are).
    expect((await run('python3 -c "x = bytearray(64 * 1024 ** 2); print(len(x))"')).stdout).toBe(`${64 * MIB}\n`);
  });

  it('applies the same per-process limit to a program run without a shell', async () => {
    const big = await runner.exec('python3', ['-c', 'x = bytearray(4 * 1024 ** 3); print(len(x))'], { cwd: worktree, timeoutMs: 30_000 });
    expect(big.exitCode).toBe(1);
    expect(big.stderr).toMatch(/MemoryError/);
    const small = await runner.exec('python3', ['-c', 'import sys; print(sys.argv[1:])', 'a b', '$HOME'], { cwd: worktree, timeoutMs: 30_000 });
    expect(small.exitCode).toBe(0);
    expect(small.stdout).toBe("['a b', '$HOME']\n");
  });

  it('sets the limits without changing what the command\'s shell reports', async () => {
    const result = await run('ulimit -c; ulimit -d\nentropo-no-such-command');
    expect(result.exitCode).toBe(127);
    expect(result.stdout).toBe(`0\n${LIMITS.memoryBytes / 1024}\n`);
    // Line 2 of the command is line 2 for bash too: the limits share the command's first line.
    expect(result.stderr).toMatch(/^bash: line 2: entropo-no-such-command: command not found$/m);
    const raise = await run('ulimit -d unlimited && echo raised');
    expect(raise.stdout).toBe('');
    expect(raise.exitCode).not.toBe(0);
  });

  it('caps the memory of all processes of a command together', async (ctx) => {
    if (support.limits.memory !== 'cgroup') ctx.skip(`memory is capped per process only here (${support.limits.memory})`);
    const result = await run(THREE_HOGS);
    expect(result.exitCode).toBe(0);
    const codes = JSON.parse(result.stdout) as number[];
    expect(codes.filter((code) => code === -9).length).toBeGreaterThanOrEqual(1);
    expect(codes.filter((code) => code === 0).length).toBeGreaterThanOrEqual(1);
    expect(result.stderr).toMatch(/\[sandbox\] The command reached its memory limit of 512 MiB; the kernel killed \d+ of its processes\./);
  });

  it('stops a fork bomb at the process limit, and leaves no process behind', async (ctx) => {
    if (support.limits.processes === 'none') ctx.skip('processes cannot be capped here (root without a pids cgroup)');
    const marker = `40.${process.pid}`;
    const result = await run(`${BOUNDED_FORKS} ${marker}`);
    expect(result.exitCode).toBe(0);
    const started = Number(/fork failed after (\d+) children: Resource temporarily unavailable/.exec(result.stdout)?.[1]);
    expect(started).toBeGreaterThan(5);
    expect(started).toBeLessThan(LIMITS.maxProcesses);
    expect(result.durationMs).toBeLessThan(20_000);
    if (support.limits.processes === 'cgroup') {
      expect(result.stderr).toContain('[sandbox] The command reached its limit of 32 processes; further forks failed.');
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(hostProcesses(marker)).toBe(0);
  });

  it('keeps a shell fork bomb under the cap until the timeout ends it', async (ctx) => {
    if (support.limits.processes === 'none') ctx.skip('processes cannot be capped here (root without a pids cgroup)');
    const marker = `41.${process.pid}`;
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, hostProcesses(`sleep ${marker}`, true)); }, 100);
    const result = await run(`for i in $(seq 200); do sleep ${marker} & done; wait`, 4000).finally(() => clearInterval(sampler));
    expect(result.timedOut).toBe(true);
    expect(result.stderr).toMatch(/fork: (retry: )?Resource temporarily unavailable/);
    // The cap also counts the shell running the loop and the sandbox's init.
    expect(peak).toBeGreaterThan(5);
    expect(peak).toBeLessThan(LIMITS.maxProcesses);
    await new Promise((r) => setTimeout(r, 200));
    expect(hostProcesses(`sleep ${marker}`)).toBe(0);
  });
});
