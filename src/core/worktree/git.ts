/** Runs git's own CLI with an argv, a timeout, an AbortSignal and an environment that cannot redirect it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { AgentError, ErrorReason } from '../errors.js';
import type { MountNamespace } from '../types.js';

/** Options of one git invocation. */
export interface GitOptions {
  cwd: string;
  /**
   * Milliseconds before git is killed; defaults to two minutes. `Infinity` for work that grows with the
   * repository (a checkout, `add -A` over the whole tree), which a slow disk can stretch to any length: such
   * calls end only with `signal`.
   */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Variables set on top of the scrubbed environment, e.g. GIT_INDEX_FILE for a temporary index. */
  env?: Record<string, string>;
  /** Written to git's stdin, e.g. a patch for `git apply`. */
  input?: string | Buffer;
  maxBuffer?: number;
  /** Runs git inside this mount namespace (a copy-on-write workspace); `cwd` is then a path of this process, under `hostRoot`. */
  namespace?: MountNamespace;
  /** Sees git's stderr as it arrives, e.g. the progress of a checkout. */
  onStderr?: (text: string) => void;
}

/** What git printed and how it exited; returned by `gitResult` for commands whose exit code is an answer. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
// Patches and listings of a large monorepo run to many MiB; output beyond this means something is wrong.
const DEFAULT_MAX_BUFFER = 256 * 1024 * 1024;

// Variables that point git at another repository, index, work tree or object store. They are set, for
// example, when the CLI runs from inside a git hook; inherited, they would make us read or write the wrong
// repository, so they are dropped and set again only where we mean to.
const REDIRECTING_VARIABLES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
  'GIT_QUARANTINE_PATH',
  'GIT_IMPLICIT_WORK_TREE',
];

/** The environment every git child gets: the parent's without redirecting variables, plus `extra`. */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !REDIRECTING_VARIABLES.includes(key)) env[key] = value;
  }
  // Never wait for a password prompt; never take the user's index.lock for an optional refresh;
  // English messages so that errors can be recognised.
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_OPTIONAL_LOCKS = '0';
  env.LC_ALL = 'C';
  return { ...env, ...extra };
}

/** Runs git and resolves with its exit code and output; rejects only when git could not run or was stopped. */
export function gitResult(args: string[], options: GitOptions): Promise<GitResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
  if (options.signal?.aborted) return Promise.reject(stopError('abort', args, options.cwd, timeoutMs));
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout or cancel also ends what git started (hooks, filters, aliases).
    const [file, ...argv] = options.namespace ? [...options.namespace.enter, 'git', ...args] : ['git', ...args];
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: gitEnv(options.env),
      detached: process.platform !== 'win32',
      windowsHide: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout = new Collector(maxBuffer);
    const stderr = new Collector(maxBuffer);
    let stopped: StopReason | null = null;
    const stop = (why: StopReason): void => {
      if (stopped !== null) return;
      stopped = why;
      killGroup(child);
    };
    // setTimeout takes anything past 2^31 - 1 ms for 1 ms, so an unbounded call gets no timer at all.
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => stop('timeout'), timeoutMs) : undefined;
    const onAbort = (): void => stop('abort');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      if (!stdout.push(chunk)) stop('overflow');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      options.onStderr?.(chunk.toString('utf8'));
      if (!stderr.push(chunk)) stop('overflow');
    });
    child.on('error', (error) => {
      done();
      reject(launchError(error, args, options.cwd));
    });
    child.on('close', (code, signal) => {
      done();
      if (stopped !== null) return reject(stopError(stopped, args, options.cwd, timeoutMs));
      const result = { code: code ?? 128, stdout: stdout.text(), stderr: stderr.text() };
      if (code === null) result.stderr += `\nerror: git was killed by ${signal}`;
      resolve(result);
    });
    // A child that exits before reading its input makes the pipe fail with EPIPE; its exit code says more.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs git and resolves with its stdout; throws AgentError(GitFailed) with git's error line and the command. */
export async function git(args: string[], options: GitOptions): Promise<string> {
  const result = await gitResult(args, options);
  if (result.code !== 0) throw gitFailed(args, options.cwd, result);
  return result.stdout;
}

/** The AgentError for a git command that exited non-zero. */
export function gitFailed(args: string[], cwd: string, result: GitResult): AgentError {
  return new AgentError(
    ErrorReason.GitFailed,
    `${describe(args)} failed (exit ${result.code}) in ${cwd}: ${errorLine(result.stderr)}`,
    { cause: result },
  );
}

/** The line of git's stderr that says what went wrong: the first `fatal:`/`error:` line, else the first line. */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => /^(fatal|error):/.test(line)) ?? lines[0] ?? '(no message)';
}

type StopReason = 'timeout' | 'abort' | 'overflow';

/** Keeps up to `limit` bytes of a stream; `push` answers false once the limit is passed. */
class Collector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.limit) return false;
    this.chunks.push(chunk);
    return true;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGTERM');
    else child.kill('SIGTERM');
  } catch {
    // Already gone.
  }
}

function stopError(why: StopReason, args: string[], cwd: string, timeoutMs: number): AgentError {
  if (why === 'abort') return new AgentError(ErrorReason.Cancelled, `cancelled: ${describe(args)}`);
  const what = why === 'timeout' ? `timed out after ${timeoutMs} ms` : 'printed more output than allowed';
  return new AgentError(ErrorReason.GitFailed, `${describe(args)} ${what} in ${cwd}`);
}

function launchError(error: NodeJS.ErrnoException, args: string[], cwd: string): AgentError {
  const hint = error.code === 'ENOENT' ? 'git is not installed or not on PATH, or the folder does not exist' : error.message;
  return new AgentError(ErrorReason.GitFailed, `could not run ${describe(args)} in ${cwd}: ${hint}`, { cause: error });
}

function describe(args: string[]): string {
  return ['git', ...args].map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}
