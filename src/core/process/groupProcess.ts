/**
 * The one way the core starts a child process: in a process group of its own, so that a timeout, a cancel
 * or the end of the command also ends everything it started; with a time limit, an AbortSignal and a cap on
 * what it may print. git, the command runner, the sandbox and the trainer launcher all start theirs here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ProcessResult } from '../types.js';
import { OutputClip } from './outputClip.js';

/** How a child is started. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Pipes for fds 0, 1, 2 and any after them (the sandbox's status and gate descriptors); default 3. */
  pipes?: number;
  /** Let the child read nothing: its stdin is /dev/null instead of a pipe. */
  noStdin?: boolean;
  /** One more descriptor of this process the child gets, at `at` (at or after the pipes): a sandbox's seccomp program. */
  passFd?: { at: number; fd: number };
}

/** A started child: the process, a group kill, and promises for its exit and for its pipes closing. */
export interface GroupChild {
  child: ChildProcess;
  /** Signals the child's whole process group (SIGKILL unless told otherwise); a group already gone is no error. */
  kill(signal?: NodeJS.Signals): void;
  /** The child's exit; `spawnError` when it could not be started at all (no such program, no such folder). */
  exit: Promise<{ code: number | null; signal: string | null; spawnError?: string }>;
  /** Resolves once every pipe of the child has closed (or it could not start). */
  closed: Promise<void>;
}

/**
 * Starts `file` with `args` as the leader of a new process group. When the child exits, whatever it left in
 * its group (a `server &`, a hook's helper) is killed too: such stragglers would hold its pipes open and
 * outlive the command. A process that left the group (setsid) is not ours to end.
 */
export function spawnGroup(file: string, args: string[], options: SpawnOptions = {}): GroupChild {
  const pipes = Math.max(3, options.pipes ?? 3);
  const passed = options.passFd;
  if (passed !== undefined && passed.at < pipes) throw new Error(`descriptor ${passed.at} is one of the child's ${pipes} pipes`);
  const stdio = Array.from({ length: passed ? passed.at + 1 : pipes },
    (_, fd) => (fd === passed?.at ? passed.fd : (fd === 0 && options.noStdin) || fd >= pipes ? 'ignore' : 'pipe')) as ('pipe' | 'ignore' | number)[];
  // detached: the child leads a new process group, so kill(-pid) reaches its grandchildren too.
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, detached: process.platform !== 'win32', windowsHide: true, stdio });
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    try {
      if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // The group is already gone.
    }
  };
  // A child that exits before reading its input makes the pipe fail with EPIPE; its exit code says more.
  for (const stream of child.stdio) stream?.on('error', () => undefined);
  const exit = new Promise<{ code: number | null; signal: string | null; spawnError?: string }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, spawnError: error.message }));
    child.on('exit', (code, signal) => { kill(); resolve({ code, signal }); });
  });
  const closed = new Promise<void>((resolve) => { child.on('close', () => resolve()); child.on('error', () => resolve()); });
  return { child, kill, exit, closed };
}

/** How a started child's output is collected. */
export interface CollectOptions {
  /** Milliseconds before the group is killed; none when absent or not finite (`Infinity`: work that ends only on cancel). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to the child's stdin, which is then closed. */
  stdin?: string | Buffer;
  /** Bytes kept per stream; default 1 MiB. */
  maxOutputBytes?: number;
  /** `clip` keeps the first bytes and lets the child go on; `stop` kills it once it prints more. Default `clip`. */
  overflow?: 'clip' | 'stop';
  /** The signal of a timeout, a cancel or an overflow; default SIGKILL. */
  killSignal?: NodeJS.Signals;
  /** Sees stderr as it arrives, e.g. the progress of a long git checkout. */
  onStderr?: (text: string) => void;
}

/** What a child printed and how it ended; `truncated` also when `overflow: 'stop'` killed it for printing too much. */
export interface ProcessOutput extends ProcessResult {
  /** Why the child could not be started, when it could not. */
  spawnError?: string;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
// Output still in the pipes when the child exits arrives within moments; a pipe held open by a process that
// left the group would otherwise keep us waiting forever.
const DRAIN_MS = 2000;

/** Collects a started child's output under a time limit, a cancel signal and an output cap. */
export function collectOutput(started: GroupChild, options: CollectOptions = {}, startedAt = Date.now()): Promise<ProcessOutput> {
  const { child } = started;
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const kill = () => started.kill(options.killSignal ?? 'SIGKILL');
  const out = new OutputClip(limit);
  const err = new OutputClip(limit);
  let timedOut = false;
  let cancelled = false;
  // setTimeout takes anything past 2^31 - 1 ms for 1 ms, so an unbounded wait gets no timer at all.
  const timer = options.timeoutMs === undefined || !Number.isFinite(options.timeoutMs) ? undefined : setTimeout(() => { timedOut = true; kill(); }, options.timeoutMs);
  const onAbort = () => { cancelled = true; kill(); };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const push = (clip: OutputClip) => (chunk: Buffer) => {
    clip.push(chunk);
    if (clip.truncated && options.overflow === 'stop') kill();
  };
  child.stdout?.on('data', push(out));
  child.stderr?.on('data', push(err));
  if (options.onStderr) child.stderr?.on('data', (chunk: Buffer) => options.onStderr!(chunk.toString('utf8')));
  child.stdin?.end(options.stdin ?? '');
  return started.exit.then(async ({ code, signal, spawnError }) => {
    let drain: NodeJS.Timeout | undefined;
    await Promise.race([started.closed, new Promise((resolve) => { drain = setTimeout(resolve, DRAIN_MS); })]);
    clearTimeout(timer);
    clearTimeout(drain);
    options.signal?.removeEventListener('abort', onAbort);
    for (const stream of child.stdio) stream?.destroy();
    return {
      exitCode: code, signal, stdout: out.text(), stderr: err.text(), timedOut, cancelled,
      truncated: out.truncated || err.truncated, durationMs: Date.now() - startedAt, ...(spawnError ? { spawnError } : {}),
    };
  });
}

/** Starts a child in its own process group and collects its output: `spawnGroup` then `collectOutput`. */
export function runProcess(file: string, args: string[], options: SpawnOptions & CollectOptions = {}): Promise<ProcessOutput> {
  const startedAt = Date.now();
  return collectOutput(spawnGroup(file, args, options), options, startedAt);
}

/**
 * True when a process with this pid exists and has not died (EPERM means it exists but belongs to someone
 * else). A zombie counts as dead: where init does not reap orphans (some containers), a killed process stays
 * a zombie for good, and a lock or a batch it held is free.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // The state follows the command name, which is in parentheses and may itself hold spaces or ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch (error) {
    // Gone from /proc on Linux: it ended meanwhile. Elsewhere there is no /proc, and kill() answered.
    return process.platform === 'linux' && (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
