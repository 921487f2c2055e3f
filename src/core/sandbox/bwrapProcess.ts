/** Runs one bwrap process, optionally holding the sandbox back until its init process has joined a cgroup. */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ProcessResult, RunOptions } from '../types.js';

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
// bwrap reports the sandbox's init on fd 3 and waits for a byte on fd 4 before it starts the command.
const STATUS_FD = 3;
const BLOCK_FD = 4;
/** Exit code of a command that never started because its cgroup could not be joined. */
export const JOIN_FAILED_EXIT = 125;

/**
 * Called with the host pid of the sandbox's init process, after bwrap cloned it and before anything of the
 * command runs; the command starts once the returned promise resolves.
 */
export type BeforeStart = (pid: number) => Promise<void>;

/**
 * Spawns `bwrap` with `args` (which end with `--` and the command) in its own process group, like
 * NodeProcessRunner, and with `beforeStart` inserts `--json-status-fd` / `--block-fd` so that the sandbox
 * waits for it. Only the sandbox's init is placed, before it forks the command, so no process of the
 * command starts outside; bwrap's own monitor process stays where it is and runs nothing else. Joining this
 * way overlaps the cgroup move (an RCU grace period on cgroup v1) with bwrap building the sandbox, instead
 * of paying both one after the other in a wrapper shell. If `beforeStart` rejects, the sandbox is killed
 * and the result has exit code 125 and the reason on stderr.
 */
export function bwrapProcess(bwrap: string, args: string[], options: RunOptions, beforeStart?: BeforeStart): Promise<ProcessResult> {
  const started = Date.now();
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const argv = beforeStart ? gated(args) : args;
  return new Promise((resolve) => {
    // detached: bwrap leads a new process group; killing it makes the kernel kill the sandbox's init
    // (--die-with-parent), and with it every process in the sandbox's pid namespace.
    const child = spawn(bwrap, argv, {
      cwd: options.cwd, env: options.env, detached: true, stdio: beforeStart ? ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    const out = new Clip(limit);
    const err = new Clip(limit);
    let timedOut = false;
    let cancelled = false;
    let failure = '';
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, options.timeoutMs);
    const onAbort = () => { cancelled = true; killGroup(); };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.stdin ?? '');
    if (beforeStart) {
      gate(child.stdio[STATUS_FD] as Readable, child.stdio[BLOCK_FD] as Writable, beforeStart, (message) => {
        failure = `\n[sandbox] The command did not start: it could not be placed in its cgroup (${message}).\n`;
        killGroup();
      });
    }
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    const finish = (exitCode: number | null, signal: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drain);
      options.signal?.removeEventListener('abort', onAbort);
      for (const stream of child.stdio) stream?.destroy();
      resolve({
        exitCode: failure ? JOIN_FAILED_EXIT : exitCode, signal: failure ? null : signal, stdout: out.text(),
        stderr: err.text() + failure, timedOut, cancelled, truncated: out.truncated || err.truncated, durationMs: Date.now() - started,
      });
    };
    child.on('error', (error) => { err.push(Buffer.from(String(error.message))); finish(127, null); });
    child.on('exit', (code, signal) => {
      // bwrap's exit ends the sandbox; the group kill also reaches anything the monitor left in its group.
      killGroup();
      drain = setTimeout(() => finish(code, signal), 2000);
      child.on('close', () => finish(code, signal));
    });
  });
}

function gated(args: string[]): string[] {
  const end = args.indexOf('--');
  return [...args.slice(0, end), '--json-status-fd', String(STATUS_FD), '--block-fd', String(BLOCK_FD), ...args.slice(end)];
}

/**
 * Reads the init's pid from bwrap's first status line, runs `beforeStart`, then releases the sandbox. If
 * bwrap fails before it clones (a bad mount), the status stream just ends and bwrap's own error stands.
 */
function gate(status: Readable, block: Writable, beforeStart: BeforeStart, fail: (message: string) => void): void {
  let buffered = '';
  let seen = false;
  block.on('error', () => undefined);
  status.on('error', () => undefined);
  status.on('data', (chunk: Buffer) => {
    if (seen) return;
    buffered += chunk.toString('utf8');
    const newline = buffered.indexOf('\n');
    if (newline < 0) return;
    seen = true;
    const pid = childPid(buffered.slice(0, newline));
    if (pid === null) return fail(`bwrap reported no process id: ${buffered.slice(0, newline)}`);
    beforeStart(pid).then(() => block.end('1'), (error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  });
}

function childPid(line: string): number | null {
  try {
    const pid = Number((JSON.parse(line) as { 'child-pid'?: unknown })['child-pid']);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Keeps the first `limit` bytes of a stream and counts the rest. */
class Clip {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    if (this.size >= this.limit) { this.truncated = true; return; }
    const room = this.limit - this.size;
    if (chunk.length > room) { this.truncated = true; chunk = chunk.subarray(0, room); }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
