/** Runs git's own CLI with an argv, a timeout, an AbortSignal and an environment that cannot redirect it. */
import { copyFile, stat, utimes } from 'node:fs/promises';
import { AgentError, ErrorReason } from '../errors.js';
import { runProcess } from '../process/groupProcess.js';
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
  /**
   * The configuration from `withContainedFilters` (filterDrivers.ts), set on top of `env`. Git then enters an
   * overlay's namespace keeping the host's pid namespace, as the agent's sandboxes start: bubblewrap started
   * from inside it leaves git waiting on its second driver run forever (bubblewrap 0.8).
   */
  filters?: Readonly<Record<string, string>>;
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

// Our git calls are plumbing on the user's repository and on workspaces the agent wrote in: no hook and no
// file-system monitor may run from them. A relative core.hooksPath (husky sets `.husky/_`) resolves inside
// the work tree, where an agent's command could have put a hook that `git add` would then run outside the
// sandbox; an fsmonitor command is the same kind of program.
const NO_PROGRAMS = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

/** Runs git and resolves with its exit code and output; rejects only when git could not run or was stopped. */
export async function gitResult(args: string[], options: GitOptions): Promise<GitResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (options.signal?.aborted) throw stopError('abort', args, options.cwd, timeoutMs);
  // Its own process group, so that a timeout or cancel also ends what git started (filters, aliases);
  // inside a workspace's mount namespace when given one.
  const command = ['git', ...NO_PROGRAMS, ...args];
  const enter = options.filters ? options.namespace?.enterKeepingPids : options.namespace?.enter;
  const [file, ...argv] = enter ? [...enter, ...command] : command;
  const run = await runProcess(file, argv, {
    cwd: options.cwd, env: gitEnv({ ...options.env, ...options.filters }), stdin: options.input, timeoutMs, signal: options.signal,
    maxOutputBytes: options.maxBuffer ?? DEFAULT_MAX_BUFFER, overflow: 'stop', killSignal: 'SIGTERM', onStderr: options.onStderr,
  });
  if (run.spawnError !== undefined) throw launchError(run.spawnError, args, options.cwd);
  if (run.cancelled) throw stopError('abort', args, options.cwd, timeoutMs);
  if (run.timedOut) throw stopError('timeout', args, options.cwd, timeoutMs);
  if (run.truncated) throw stopError('overflow', args, options.cwd, timeoutMs);
  const result = { code: run.exitCode ?? 128, stdout: run.stdout, stderr: run.stderr };
  if (run.exitCode === null) result.stderr += `\nerror: git was killed by ${run.signal}`;
  return result;
}

/** Runs git and resolves with its stdout; throws AgentError(GitFailed) with git's error line and the command. */
export async function git(args: string[], options: GitOptions): Promise<string> {
  return (await gitSucceeded(args, options)).stdout;
}

/** Runs git and resolves with its output, stderr included (warnings of a command that succeeded); throws like `git`. */
export async function gitSucceeded(args: string[], options: GitOptions): Promise<GitResult> {
  const result = await gitResult(args, options);
  if (result.code !== 0) throw gitFailed(args, options.cwd, result);
  return result;
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

function stopError(why: StopReason, args: string[], cwd: string, timeoutMs: number): AgentError {
  if (why === 'abort') return new AgentError(ErrorReason.Cancelled, `cancelled: ${describe(args)}`);
  const what = why === 'timeout' ? `timed out after ${timeoutMs} ms` : 'printed more output than allowed';
  return new AgentError(ErrorReason.GitFailed, `${describe(args)} ${what} in ${cwd}`);
}

function launchError(message: string, args: string[], cwd: string): AgentError {
  const hint = /ENOENT/.test(message) ? 'git is not installed or not on PATH, or the folder does not exist' : message;
  return new AgentError(ErrorReason.GitFailed, `could not run ${describe(args)} in ${cwd}: ${hint}`);
}

function describe(args: string[]): string {
  return ['git', ...args].map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}

/**
 * Copies an index to `to` for a temporary GIT_INDEX_FILE, keeping its stat cache (so `add -A` hashes only
 * files that changed) and its own time: git rehashes a file whose time is not older than the index's
 * ("racily clean"), so a file rewritten at the same size within that tick is still seen as changed. A missing
 * index (a fresh repository) copies nothing: git reads a missing GIT_INDEX_FILE as an empty index.
 */
export async function copyIndex(from: string, to: string): Promise<void> {
  try {
    await copyFile(from, to);
    const { atime, mtime } = await stat(from);
    await utimes(to, atime, mtime);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
