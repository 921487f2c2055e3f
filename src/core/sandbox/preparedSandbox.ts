/** A sandbox started ahead of its command: built, placed in its cgroup, and waiting to be told what to run. */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { shellQuote } from '../process/shellQuote.js';
import type { ProcessResult, RunOptions } from '../types.js';
import { collectBwrap, launchBwrap, type BwrapChild } from './bwrapProcess.js';
import type { CommandCgroup } from './cgroups.js';

const SPEC_FD = 5;
// The sandbox's first process closes the gate's descriptors, reads one instruction from fd 5 (its length in
// bytes on a line, then the bash code) and runs it; one cut short fails the length check and never runs. In
// the C locale `read -N` counts bytes, and reads them in blocks rather than byte by byte. No rc files: this
// shell must print and read nothing of its own.
const TRAMPOLINE = ['bash', '--norc', '--noprofile', '-c',
  `LC_ALL=C; exec 3>&- 4>&-; IFS= read -r -u ${SPEC_FD} n && IFS= read -r -N "$n" -u ${SPEC_FD} s && [ "\${#s}" = "$n" ] || exit 125; eval "$s"`];

/**
 * One bwrap sandbox started before its command is known, so that building it (namespaces, some fifty
 * mounts) and moving its init into the command's cgroup (an RCU grace period on cgroup v1) happen while the
 * runner is idle. Its first process is a fixed bash line that waits for one instruction on a pipe: the
 * command's argv and environment, which it runs with `exec env -i`, so the command gets exactly the process,
 * environment, limits and cgroup it would get in a sandbox started for it. The mount arguments are fixed at
 * start; the runner uses it only for a command whose own mount arguments are identical. Used once.
 */
export class PreparedSandbox {
  /** Resolves true once the sandbox waits inside its cgroup, false if it could not get there. */
  readonly ready: Promise<boolean>;
  private readonly launched: BwrapChild;
  private taken = false;
  private dead = false;

  /**
   * Starts the sandbox with `mounts` (bwrap's arguments before `--`) in `cwd`, finding bash and env on
   * `path`, and joins its init to `cgroup`; `launcher` starts bwrap inside an overlay's mount namespace.
   */
  constructor(bwrap: string, readonly mounts: string[], cwd: string, path: string, readonly cgroup: CommandCgroup | null, launcher?: string[]) {
    const join = cgroup ? (pid: number) => cgroup.join(pid) : () => Promise.resolve();
    // Nothing of the user's environment: no BASH_ENV to source, and a shell level that rules out ~/.bashrc
    // (bash reads it when its stdin is a socket, as Node's pipes are, and the level is below 2).
    const env = { PATH: path, SHLVL: '1' };
    this.launched = launchBwrap(bwrap, [...mounts, '--', ...TRAMPOLINE], { cwd, env, launcher }, join, 1);
    // A waiting sandbox must not keep the process alive; --die-with-parent ends it with the process.
    setRef(this.launched, false);
    void this.launched.exit.then(() => { this.dead = true; });
    this.ready = this.launched.gate.then((outcome) => outcome === '' && !this.dead);
  }

  /** Whether this sandbox is still free and alive and was built with exactly `mounts`, for `command`. */
  fits(mounts: string[], command: string[]): boolean {
    // `env` would take a first word with '=' for a variable; such a command gets a sandbox of its own.
    return !this.taken && !this.dead && !command[0].includes('=') && mounts.length === this.mounts.length
      && mounts.every((arg, i) => arg === this.mounts[i]);
  }

  /**
   * Runs `command` with `options.env` as its whole environment; null when the sandbox turned out unusable
   * (the caller then discards it and starts a fresh one). The timeout runs from the moment it is told.
   */
  async run(command: string[], options: RunOptions): Promise<ProcessResult | null> {
    this.taken = true;
    // What `spawn` would refuse (a NUL byte) or `env` would misread (a name with '=') takes the fresh path,
    // so that such a command fails or runs exactly as it would there.
    if (!spellable(command, options.env ?? {}) || !(await readyWithin(this.ready, options)) || this.dead) return null;
    setRef(this.launched, true);
    const result = collectBwrap(this.launched, options);
    const spec = (this.launched.child.stdio as unknown as Writable[])[SPEC_FD];
    if (!options.signal?.aborted) spec.end(instruction(command, options.env ?? {}));
    return result;
  }

  /** Kills the sandbox (if it still waits) and removes its cgroup. */
  async discard(): Promise<void> {
    this.taken = true;
    // Awaited by dispose(): while we wait for it to exit, the sandbox must keep the process alive again, or
    // Node would exit with the caller's work still pending.
    setRef(this.launched, true);
    this.launched.kill();
    await this.launched.exit;
    for (const stream of this.launched.child.stdio) stream?.destroy();
    await this.cgroup?.discard();
  }
}

/** The instruction: bash code that closes the instruction pipe and becomes `command` with exactly `env`. */
function instruction(command: string[], env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const code = `exec ${SPEC_FD}<&-; exec env -i -- ${[...assignments, ...command].map(shellQuote).join(' ')}`;
  return `${Buffer.byteLength(code)}\n${code}`;
}

// A sandbox still starting (a command right after the last) is waited for, but never past the command's own
// timeout or cancel: a stalled start then gives way to a fresh one, which the timeout covers as before.
async function readyWithin(ready: Promise<boolean>, options: RunOptions): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), options.timeoutMs);
    onAbort = () => resolve(false);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([ready, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
}

function spellable(command: string[], env: Record<string, string>): boolean {
  const names = Object.keys(env);
  return names.every((name) => name !== '' && !name.includes('=')) && ![...names, ...Object.values(env), ...command].some((word) => word.includes('\0'));
}

function setRef(launched: BwrapChild, on: boolean): void {
  if (on) launched.child.ref();
  else launched.child.unref();
  for (const stream of launched.child.stdio) {
    const socket = stream as unknown as Partial<Socket> | null;
    if (on) socket?.ref?.();
    else socket?.unref?.();
  }
}
