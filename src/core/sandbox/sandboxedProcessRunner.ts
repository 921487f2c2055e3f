/** Runs the agent's commands inside a bubblewrap sandbox. */
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import type { ProcessResult, ProcessRunner, RunOptions } from '../types.js';
import { AllowlistProxy } from './allowlistProxy.js';
import { bwrapProcess } from './bwrapProcess.js';
import { CommandCgroup } from './cgroups.js';
import { detectSandbox } from './detectSandbox.js';
import { bwrapArgs, isUnder, PROXY_SOCKET_INSIDE } from './mountPlan.js';
import { pathInside } from './namespacedRunner.js';
import { PreparedSandbox } from './preparedSandbox.js';
import { PROXY_SOCKET_VAR, shimArgv } from './proxyShim.js';
import { sandboxEnv } from './sandboxEnv.js';
import { gitConfigsWithoutCredentials, type ReplacedFile } from './gitDirs.js';
import { DEFAULT_LIMITS, type NetworkMode, type SandboxLimits, type SandboxOptions, type SandboxSupport } from './sandboxTypes.js';
import { defaultHiddenPaths } from './secretPaths.js';
import { removeScratchDir, scratchDir } from '../node/scratchDir.js';

/** Host-side state of one runner: its private /tmp, and the allow-list proxy when there is one. */
interface RunnerState {
  dir: string;
  tmp: string;
  emptyFile: string;
  writable: string[];
  readOnly: string[];
  proxySocket?: string;
  /** The git configs shown without their credentials. */
  replaced: ReplacedFile[];
}

/**
 * A ProcessRunner whose commands see the whole filesystem read-only except the rollout's worktree, a private
 * /tmp (kept for the runner's life, so files written there survive from one command to the next) and
 * nothing of the user's secrets (DEFAULT_HOME_SECRETS, /run's daemon sockets, and the caller's hidden paths);
 * run in their own pid, IPC and (unless `network` is `on`) network namespaces without capabilities; get a
 * scrubbed environment without the configured secrets; and are capped in memory and processes.
 *
 * Git: the worktree's own git folder and the shared repository are read-only, so `git status`, `diff`,
 * `log`, `show` and `grep` work, while commands that write git data (`add`, `commit`, `stash`, `checkout --`)
 * fail with "Read-only file system". Letting them write would let a command rewrite the user's objects,
 * refs or hooks, and an index written in here would reference objects the host cannot see.
 *
 * Network `allowlist`: bubblewrap alone can only give a namespace all or nothing, so the namespace stays
 * offline and its one way out is an HTTP(S) proxy on the host, reached through a bind-mounted Unix socket and
 * relayed on the sandbox's loopback by a small Node shim that sets `http_proxy`/`https_proxy`. Clients that
 * honour these (curl, wget, pip, npm, git, Python's urllib and requests) reach the listed hosts only; others
 * (Node 20's built-in fetch, raw sockets) get no network, never an unfiltered one. The shim costs one Node
 * start per command in this mode (tens of milliseconds idle, hundreds on a busy machine).
 *
 * Start-up: right after each command the runner starts the next command's sandbox and moves it into its
 * cgroup (PreparedSandbox), guessing the same folder, so that the next command pays neither. That command
 * uses it only if its own mount arguments are identical (rebuilt from the filesystem then: a secret file
 * created meanwhile changes them); otherwise, or if another command took it, it starts its own as before.
 */
export class SandboxedProcessRunner implements ProcessRunner {
  /** Always true; lets a caller tell this runner from the unsandboxed fallback. */
  readonly sandboxed = true;
  private readonly limits: Required<SandboxLimits>;
  private readonly network: NetworkMode;
  private readonly home: string;
  private state?: Promise<RunnerState>;
  private proxy?: AllowlistProxy;
  private disposed = false;
  // At most one sandbox waits for the next command; commands that find none (or one that does not fit) start their own.
  private waiting?: PreparedSandbox;
  private readonly discarding = new Set<Promise<void>>();
  private readonly counts = { prepared: 0, fresh: 0, discarded: 0 };

  /** Builds a runner on a machine that `detectSandbox` found able to sandbox; see `create`. */
  constructor(private readonly options: SandboxOptions, private readonly support: SandboxSupport) {
    if (!support.available || !support.bwrapPath) {
      throw new AgentError(ErrorReason.Config, support.reason ?? 'The command sandbox is not available on this machine.');
    }
    validate(options);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.network = options.network ?? 'off';
    this.home = options.home ?? homedir();
  }

  /** Detects bubblewrap (cached) and builds a runner, or throws AgentError(Config) saying why it cannot. */
  static async create(options: SandboxOptions): Promise<SandboxedProcessRunner> {
    return new SandboxedProcessRunner(options, await detectSandbox());
  }

  /** How memory and process limits are enforced on this machine. */
  get enforcement(): SandboxSupport['limits'] {
    return this.support.limits;
  }

  shell(command: string, options: RunOptions): Promise<ProcessResult> {
    // The limits go in front of the command in the shell that runs it anyway: no extra process, and the
    // same line, so that bash's "line N" in error messages still counts the command's own lines.
    return this.run(['bash', '-c', `${this.ulimits()}; ${command}`], options);
  }

  exec(file: string, args: string[], options: RunOptions): Promise<ProcessResult> {
    return this.run(['bash', '-c', `${this.ulimits()}; exec "$0" "$@"`, file, ...args], options);
  }

  private async run(command: string[], options: RunOptions): Promise<ProcessResult> {
    if (this.disposed) throw new AgentError(ErrorReason.InvalidArgument, 'This sandboxed runner was disposed.');
    const state = await this.prepare();
    const mounts = this.mounts(state, this.inside(options.cwd));
    const inside = this.network === 'allowlist' ? shimArgv(process.execPath, command[0], command.slice(1)) : command;
    const runOptions = { ...options, env: this.env(options) };
    try {
      return await this.runPrepared(mounts, inside, runOptions) ?? await this.runFresh(mounts, inside, runOptions);
    } finally {
      // After the caller has its result: spawning bwrap blocks this thread for a moment.
      setImmediate(() => this.startNext(state, options.cwd));
    }
  }

  /** How many commands ran in a sandbox prepared ahead of time, in a fresh one, and how many prepared ones were thrown away. */
  get starts(): { prepared: number; fresh: number; discarded: number } {
    return { ...this.counts };
  }

  /** Runs in the waiting sandbox when it was built with exactly these mounts; null when there is none to use. */
  private async runPrepared(mounts: string[], inside: string[], options: RunOptions): Promise<ProcessResult | null> {
    const waiting = this.waiting;
    if (!waiting) return null;
    // Taken synchronously: a second command arriving meanwhile finds none and starts its own.
    this.waiting = undefined;
    if (!waiting.fits(mounts, inside)) {
      void this.discard(waiting);
      return null;
    }
    let result: ProcessResult | null = null;
    let note = '';
    try {
      result = await waiting.run(inside, options);
    } finally {
      if (result) note = waiting.cgroup?.finish() ?? '';
      else void this.discard(waiting);
    }
    if (!result) return null;
    this.counts.prepared++;
    return note ? { ...result, stderr: result.stderr + note } : result;
  }

  private async runFresh(mounts: string[], inside: string[], options: RunOptions): Promise<ProcessResult> {
    this.counts.fresh++;
    const cgroup = this.cgroup();
    let result: ProcessResult;
    let note = '';
    try {
      result = await bwrapProcess(this.support.bwrapPath as string, [...mounts, '--', ...inside], { ...options, launcher: this.launcher },
        cgroup ? (pid) => cgroup.join(pid) : undefined);
    } finally {
      if (cgroup) note = cgroup.finish();
    }
    return note ? { ...result, stderr: result.stderr + note } : result;
  }

  /**
   * Starts the sandbox for the next command while the caller reads this one's result, guessing that it runs
   * in the same folder; the guess is checked against the next command's full mount arguments.
   */
  private startNext(state: RunnerState, cwd: string): void {
    if (this.disposed || this.waiting) return;
    try {
      const path = this.env({ cwd, timeoutMs: 0 }).PATH ?? '/usr/bin:/bin';
      this.waiting = new PreparedSandbox(this.support.bwrapPath as string, this.mounts(state, this.inside(cwd)), cwd, path, this.cgroup(), this.launcher);
    } catch {
      // A folder gone meanwhile: the next command starts its own sandbox and reports the problem.
    }
  }

  private discard(sandbox: PreparedSandbox): Promise<void> {
    this.counts.discarded++;
    const done = sandbox.discard().catch(() => undefined);
    this.discarding.add(done);
    void done.then(() => this.discarding.delete(done));
    return done;
  }

  /** bwrap is started inside the overlay namespace, keeping its pid (the cgroup is joined by pid) and parent. */
  private get launcher(): string[] | undefined {
    return this.options.namespace?.enterKeepingPids;
  }

  /** A cwd given as this process reaches it (`/proc/<pid>/root/...`) as the sandbox, inside the namespace, sees it. */
  private inside(cwd: string): string {
    return pathInside(cwd, this.options.namespace?.hostRoot);
  }

  private mounts(state: RunnerState, cwd: string): string[] {
    const hostRoot = this.options.namespace?.hostRoot;
    return bwrapArgs({
      view: hostRoot ? { hostRoot, roots: state.writable } : undefined,
      writable: state.writable, readOnly: state.readOnly, privateTmp: state.tmp, emptyFile: state.emptyFile, network: this.network,
      hidden: [...defaultHiddenPaths(this.home), ...(this.options.hiddenPaths ?? [])],
      expose: [...(this.network === 'allowlist' ? [process.execPath] : []), ...(this.options.expose ?? [])],
      proxySocket: state.proxySocket, home: this.home, cwd, replaced: state.replaced,
    });
  }

  /** Kills the sandbox waiting for a next command, stops the allow-list proxy and removes the private /tmp; the runner cannot be used afterwards. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) void this.discard(waiting);
    await Promise.all(this.discarding);
    await this.proxy?.close();
    const state = await this.state?.catch(() => undefined);
    if (state) await removeScratchDir(state.dir).catch(() => undefined);
  }

  private prepare(): Promise<RunnerState> {
    // A failed setup (a worktree not there yet) is retried by the next command rather than remembered.
    this.state ??= this.createState().catch((error: unknown) => {
      this.state = undefined;
      throw error;
    });
    return this.state;
  }

  private async createState(): Promise<RunnerState> {
    const writable = await Promise.all(this.options.writable.map((path) => realpath(path).catch(() => {
      throw new AgentError(ErrorReason.FileNotFound, `The sandbox's writable folder ${path} does not exist.`);
    })));
    const dir = await scratchDir('entropo-sandbox-');
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    const emptyFile = join(dir, 'empty');
    await writeFile(emptyFile, '', { mode: 0o444 });
    const readOnly = (this.options.readOnly ?? []).filter((path) => isUnder(path, this.options.writable) || isUnder(path, writable));
    const replaced = await gitConfigsWithoutCredentials(writable, dir, this.options.namespace?.hostRoot);
    const state: RunnerState = { dir, tmp, emptyFile, writable, readOnly, replaced };
    if (this.network === 'allowlist') {
      this.proxy = new AllowlistProxy(this.options.allowedHosts ?? []);
      state.proxySocket = join(dir, 'proxy.sock');
      await this.proxy.listen(state.proxySocket);
    }
    return state;
  }

  private cgroup(): CommandCgroup | null {
    const roots = this.support.cgroups;
    return roots ? CommandCgroup.create(roots, this.limits) : null;
  }

  /**
   * Limits are set with `ulimit` by the bash that runs the command, before anything of it runs (`ulimit`
   * sets soft and hard limits; the sandbox has no capability to raise a hard limit again, and a failure
   * means a lower limit is already in force): RLIMIT_DATA caps each process's memory (not RLIMIT_AS: Node,
   * the JVM and Go reserve far more address space than they use), RLIMIT_CORE keeps core dumps out of the
   * worktree, and RLIMIT_NPROC caps processes where no cgroup does. RLIMIT_NPROC counts per user namespace,
   * so it must be set inside the sandbox (set outside, it would count every process the user runs).
   */
  private ulimits(): string {
    const data = `ulimit -d ${Math.floor(this.limits.memoryBytes / 1024)} 2>/dev/null; ulimit -c 0`;
    return this.support.limits.processes === 'rlimit' ? `${data}; ulimit -u ${this.limits.maxProcesses} 2>/dev/null` : data;
  }

  private env(options: RunOptions): Record<string, string> {
    const env = sandboxEnv(options.env ?? process.env, this.options.secrets);
    if (this.network === 'allowlist') {
      env[PROXY_SOCKET_VAR] = PROXY_SOCKET_INSIDE;
      // Inside an editor, process.execPath is Electron, which acts as plain Node only with this set.
      env.ELECTRON_RUN_AS_NODE = '1';
    }
    return env;
  }
}

function validate(options: SandboxOptions): void {
  const bad = (message: string) => new AgentError(ErrorReason.Config, message);
  if (options.writable.length === 0) throw bad('The sandbox needs at least one writable folder (the worktree).');
  for (const path of [...options.writable, ...(options.readOnly ?? []), ...(options.hiddenPaths ?? [])]) {
    if (!isAbsolute(path)) throw bad(`Sandbox paths must be absolute, got ${path}.`);
  }
  if (options.writable.some((path) => path === '/')) throw bad('The sandbox cannot make the whole filesystem writable.');
  const { memoryBytes, maxProcesses } = options.limits ?? {};
  if (memoryBytes !== undefined && !(memoryBytes >= 16 * 1024 ** 2)) throw bad(`memoryBytes must be at least 16 MiB, got ${memoryBytes}.`);
  if (maxProcesses !== undefined && !(Number.isInteger(maxProcesses) && maxProcesses >= 4)) {
    throw bad(`maxProcesses must be an integer of at least 4, got ${maxProcesses}.`);
  }
  if (options.network === 'allowlist' && (options.allowedHosts ?? []).length === 0) {
    throw bad('Network mode "allowlist" needs at least one allowed host; use "off" for no network.');
  }
}
