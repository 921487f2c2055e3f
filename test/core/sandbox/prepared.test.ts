import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import { SandboxedProcessRunner } from '../../../src/core/sandbox/sandboxedProcessRunner.js';
import type { SandboxSupport } from '../../../src/core/sandbox/sandboxTypes.js';
import { PROJECT_ROOT } from '../../helpers/tempRepo.js';
import { cleanup, hostProcesses, repoWithWorktree, sandbox, write } from './helpers.js';

const KEY = 'sk-test-9e2b4d6f8a1c';

/** Host pids of bwrap processes (the monitor and the sandbox's init) whose arguments mention `path`. */
function bwrapPids(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const args = cmdline(entry);
    if (args[0]?.endsWith('bwrap') && args.includes(path)) pids.push(Number(entry));
  }
  return pids;
}

function cmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** This process's command cgroups that still exist. */
function ownCgroups(support: SandboxSupport): string[] {
  const roots = [...new Set([support.cgroups?.memory, support.cgroups?.pids])].filter((root): root is string => !!root);
  return roots.flatMap((root) => readdirSync(root).filter((name) => name.startsWith(`entropo-${process.pid}-`)));
}

async function until(test: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 25))) {
    if (test()) return true;
  }
  return test();
}

describe.skipIf(!sandbox.available)('SandboxedProcessRunner: a sandbox prepared ahead of each command', () => {
  let support: SandboxSupport;
  let worktree: string;
  let runner: SandboxedProcessRunner;
  // Like an agent between commands, each waits a moment: the runner prepares the next sandbox right after it
  // hands back a result (a command arriving before then starts its own).
  const run = async (cmd: string, extra: { env?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal; stdin?: string } = {}) => {
    const result = await runner.shell(cmd, { cwd: worktree, timeoutMs: 20_000, ...extra });
    await new Promise((resolve) => setImmediate(resolve));
    return result;
  };

  beforeAll(async () => {
    support = await detectSandbox();
  });

  afterEach(async () => {
    await runner.dispose();
  });

  afterAll(cleanup);

  const fresh = (options: { hiddenPaths?: string[]; secrets?: string[] } = {}) => {
    ({ worktree } = repoWithWorktree({ 'a.py': 'x = 1\n' }));
    runner = new SandboxedProcessRunner({ writable: [worktree], ...options }, support);
  };

  it('runs the second command in the sandbox started after the first, with its exit code, stdin and output', async () => {
    fresh();
    expect(bwrapPids(worktree)).toEqual([]);
    const first = await run('echo one; exit 3');
    expect(runner.starts).toEqual({ prepared: 0, fresh: 1, discarded: 0 });
    // The next sandbox is started right after the result is handed back.
    expect(await until(() => bwrapPids(worktree).length >= 1)).toBe(true);
    const second = await run('cat; echo two >&2; exit 7', { stdin: 'from stdin\n' });
    const third = await run('ls /proc/self/fd | tr "\\n" " "; echo "$0"');
    expect(first).toMatchObject({ exitCode: 3, stdout: 'one\n', stderr: '' });
    expect(second).toMatchObject({ exitCode: 7, stdout: 'from stdin\n', stderr: 'two\n', timedOut: false, cancelled: false });
    // The gate's descriptors (3, 4; ls opens 3 for its listing) and the instruction pipe (5) are closed.
    expect(third).toMatchObject({ exitCode: 0, stderr: '' });
    expect(third.stdout).toMatch(/^0 1 2 (\d+ )+bash\n$/);
    expect(third.stdout.split(' ')).not.toContain('4');
    expect(third.stdout.split(' ')).not.toContain('5');
    expect(runner.starts).toEqual({ prepared: 2, fresh: 1, discarded: 0 });
  });

  it('gives a command in a prepared sandbox exactly the scrubbed environment a fresh one gets, without the API key', async () => {
    fresh({ secrets: [KEY] });
    const env = { ...process.env as Record<string, string>, ENTROPO_API_KEY: KEY, OTHER_NAME: `x${KEY}`,
      HARMLESS: "keep 'quoted' $HOME `id` \\ me\nline two", LANG: 'C.UTF-8', UNICODE: 'grüße ✓' };
    const first = await run('env', { env });
    const second = await run('env', { env });
    expect(runner.starts).toEqual({ prepared: 1, fresh: 1, discarded: 0 });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stdout).not.toContain(KEY);
    expect(second.stdout).not.toMatch(/ENTROPO_API_KEY|OTHER_NAME/);
    expect(second.stdout).toContain("HARMLESS=keep 'quoted' $HOME `id` \\ me\nline two\n");
    expect(second.stdout).toContain('UNICODE=grüße ✓\n');
    expect(second.stdout).toContain('TMPDIR=/tmp\n');
  });

  it('discards the prepared sandbox when the mount plan changed meanwhile, and masks the new file', async () => {
    fresh();
    const hidden = join(worktree, 'token.txt');
    runner = new SandboxedProcessRunner({ writable: [worktree], hiddenPaths: [hidden] }, support);
    await run('true');
    await until(() => bwrapPids(worktree).length >= 2);
    const waiting = bwrapPids(worktree);
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    write(worktree, { 'token.txt': 'SECRET-TOKEN\n' });
    const result = await run('cat token.txt; echo end');
    expect(result).toMatchObject({ exitCode: 0, stdout: 'end\n' });
    expect(runner.starts).toEqual({ prepared: 0, fresh: 2, discarded: 1 });
    // The discarded sandbox is gone (its pids are not reused this fast).
    expect(await until(() => waiting.every((pid) => !bwrapPids(worktree).includes(pid)))).toBe(true);
    // A command in another folder does not fit the sandbox prepared for the worktree's root either.
    write(worktree, { 'sub/f.txt': 'f\n' });
    await until(() => bwrapPids(worktree).length >= 2);
    const sub = await runner.shell('ls', { cwd: join(worktree, 'sub'), timeoutMs: 20_000 });
    expect(sub).toMatchObject({ exitCode: 0, stdout: 'f.txt\n' });
    expect(runner.starts).toEqual({ prepared: 0, fresh: 3, discarded: 2 });
  });

  it('starts a command that arrives before the next sandbox was prepared in a sandbox of its own', async () => {
    fresh();
    const results = [await runner.shell('echo 1', { cwd: worktree, timeoutMs: 20_000 })];
    results.push(await runner.shell('echo 2', { cwd: worktree, timeoutMs: 20_000 }));
    await new Promise((resolve) => setImmediate(resolve));
    results.push(await runner.shell('echo 3', { cwd: worktree, timeoutMs: 20_000 }));
    expect(results.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n']);
    expect(runner.starts).toEqual({ prepared: 1, fresh: 2, discarded: 0 });
  });

  it('kills the waiting sandbox and removes its cgroup on dispose', async () => {
    fresh();
    await run('true');
    expect(await until(() => bwrapPids(worktree).length >= 1)).toBe(true);
    await runner.dispose();
    expect(await until(() => bwrapPids(worktree).length === 0)).toBe(true);
    if (support.cgroups) expect(await until(() => ownCgroups(support).length === 0)).toBe(true);
    await expect(run('true')).rejects.toThrow(/disposed/);
  });

  it('kills the whole process tree of a prepared sandbox on timeout and on cancel', async () => {
    fresh();
    await run('true');
    const marker = `${process.pid}${Date.now() % 100000}`;
    const timed = await run(`sleep 30${marker} & sleep 31${marker}; echo never`, { timeoutMs: 700 });
    expect(timed).toMatchObject({ timedOut: true, cancelled: false, stdout: '' });
    expect(await until(() => hostProcesses(marker) === 0)).toBe(true);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const cancelled = await run(`sleep 32${marker} & sleep 33${marker}; echo never`, { signal: controller.signal });
    expect(cancelled).toMatchObject({ timedOut: false, cancelled: true, stdout: '' });
    expect(await until(() => hostProcesses(marker) === 0)).toBe(true);
    expect(runner.starts).toEqual({ prepared: 2, fresh: 1, discarded: 0 });
  });

  it('gives concurrent commands a sandbox each: one takes the prepared sandbox, the others start their own', async () => {
    fresh();
    await run('true');
    const results = await Promise.all([1, 2, 3].map((n) => run(`echo ${n} > /tmp/n; sleep 0.3; cat /tmp/n; ls -d /proc/[0-9]* | wc -l`)));
    // Each sees only its own processes (its init, bash, ls, wc), though all share the runner's /tmp.
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    for (const result of results) expect(Number(result.stdout.trim().split('\n')[1])).toBeLessThanOrEqual(4);
    const starts = runner.starts;
    expect(starts.prepared).toBe(1);
    expect(starts.fresh).toBe(3);
    expect(starts.discarded).toBe(0);
  });

  it('keeps the process alive while dispose() waits for the prepared sandbox to end', async () => {
    fresh();
    // A process whose only pending work is dispose(): it must still get to its last line.
    const script = [
      "const { SandboxedProcessRunner } = require('./src/core/sandbox/sandboxedProcessRunner.ts');",
      "const { detectSandbox } = require('./src/core/sandbox/detectSandbox.ts');",
      `const worktree = ${JSON.stringify(worktree)};`,
      'detectSandbox().then(async (support) => {',
      '  const runner = new SandboxedProcessRunner({ writable: [worktree] }, support);',
      "  await runner.shell('true', { cwd: worktree, timeoutMs: 20000 });",
      '  await new Promise((resolve) => setImmediate(resolve));',
      '  await runner.dispose();',
      "  process.stdout.write('disposed');",
      '});',
    ].join('\n');
    for (let i = 0; i < 3; i++) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: PROJECT_ROOT, timeout: 30_000 }).toString();
      expect(out).toBe('disposed');
    }
  });
});
