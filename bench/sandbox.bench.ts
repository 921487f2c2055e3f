/**
 * Overhead of the command sandbox: the same commands run directly (NodeProcessRunner) and sandboxed
 * (SandboxedProcessRunner, network off, default limits), interleaved so that machine noise hits both alike.
 * Prints a markdown table of medians and the milliseconds the sandbox adds.
 *
 *   npx tsx bench/sandbox.bench.ts [iterations] [pauseMs]
 *
 * `pauseMs` idles before every run, as an agent does between commands while the model answers. Back-to-back
 * runs hide part of the cgroup join on cgroup v1: a migration right after another skips the RCU grace period
 * that a migration after a pause waits for (about 13 ms here), so a pause of 100 gives the realistic figure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcessRunner } from '../src/core/node/nodeProcessRunner.js';
import { detectSandbox } from '../src/core/sandbox/detectSandbox.js';
import { SandboxedProcessRunner } from '../src/core/sandbox/sandboxedProcessRunner.js';
import type { ProcessRunner } from '../src/core/types.js';

const COMMANDS = ['true', 'git status --short', 'python3 -c pass', 'node -e 0'];
// The allow-list mode adds a Node relay in front of every command; measured on the cheapest command.
const ALLOWLIST_COMMAND = 'true';

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 30);
  const pauseMs = Number(process.argv[3] ?? 0);
  const support = await detectSandbox();
  if (!support.available) {
    process.stderr.write(`No sandbox on this machine: ${support.reason}\n`);
    process.exitCode = 1;
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'entropo-bench-sandbox-'));
  try {
    const worktree = makeWorktree(root);
    const direct = new NodeProcessRunner();
    const sandboxed = new SandboxedProcessRunner({ writable: [worktree] }, support);
    const allowlist = new SandboxedProcessRunner({ writable: [worktree], network: 'allowlist', allowedHosts: ['pypi.org'] }, support);
    const rows: string[] = [];
    const run = { cwd: worktree, iterations, pauseMs };
    for (const command of COMMANDS) rows.push(await compare(direct, sandboxed, command, run, 'off'));
    rows.push(await compare(direct, allowlist, ALLOWLIST_COMMAND, run, 'allowlist'));
    // How many sandboxed runs found a sandbox started ahead of them (where the runner prepares one).
    const starts = (runner: object) => ('starts' in runner ? JSON.stringify(runner.starts) : 'n/a');
    const prepared = `Sandbox starts: network off ${starts(sandboxed)}, allowlist ${starts(allowlist)}.`;
    await sandboxed.dispose();
    await allowlist.dispose();
    process.stdout.write([
      `Sandbox overhead, ${iterations} interleaved runs per command${pauseMs ? ` each after a ${pauseMs} ms pause` : ''}, medians in ms `
        + `(limits: memory ${support.limits.memory}, processes ${support.limits.processes}; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`,
      '',
      '| command | network | direct | sandboxed | added |',
      '|---|---|---:|---:|---:|',
      ...rows,
      '',
      prepared,
      '',
    ].join('\n'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

interface RunPlan {
  cwd: string;
  iterations: number;
  pauseMs: number;
}

async function compare(direct: ProcessRunner, sandboxed: ProcessRunner, command: string, plan: RunPlan, network: string): Promise<string> {
  const times = { direct: [] as number[], sandboxed: [] as number[] };
  const { cwd, pauseMs } = plan;
  await timeOnce(direct, command, cwd, 0);
  await timeOnce(sandboxed, command, cwd, 0);
  for (let i = 0; i < plan.iterations; i++) {
    times.direct.push(await timeOnce(direct, command, cwd, pauseMs));
    times.sandboxed.push(await timeOnce(sandboxed, command, cwd, pauseMs));
  }
  const [d, s] = [median(times.direct), median(times.sandboxed)];
  return `| \`${command}\` | ${network} | ${d.toFixed(1)} | ${s.toFixed(1)} | ${(s - d).toFixed(1)} |`;
}

async function timeOnce(runner: ProcessRunner, command: string, cwd: string, pauseMs: number): Promise<number> {
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const started = process.hrtime.bigint();
  const result = await runner.shell(command, { cwd, timeoutMs: 30_000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.exitCode !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return ms;
}

function makeWorktree(root: string): string {
  const repo = join(root, 'repo');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd });
  execFileSync('git', ['init', '-q', repo]);
  for (let i = 0; i < 200; i++) writeFileSync(join(repo, `f${i}.py`), `x = ${i}\n`);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'init');
  const worktree = join(root, 'wt');
  git(repo, 'worktree', 'add', '-q', '--detach', worktree);
  return worktree;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

void main();
