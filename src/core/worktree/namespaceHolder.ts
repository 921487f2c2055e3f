/** Starts and stops the process that holds a private namespace with a batch's overlay mounts in it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { AgentError, ErrorReason } from '../errors.js';
import type { MountNamespace } from '../types.js';

/** One overlay: `target` shows `lower` with the writes of `upper` on top; `work` is overlayfs' own scratch folder. */
export interface OverlayMount {
  lower: string;
  upper: string;
  work: string;
  target: string;
}

/** Where the programs the holder needs are installed (found by the probe). */
export interface NamespaceTools {
  unshare: string;
  nsenter: string;
  mount: string;
}

/** A running holder: the namespace, how to reach it, and how to end it. */
export interface NamespaceHolder {
  /** Host pid of the `unshare` process; the marker records it so a later start can end a holder left behind. */
  pid: number;
  /** Its start time in clock ticks since boot, which tells it apart from a later process with the same pid. */
  startTime: number;
  /** Host pid of the namespace's first process (pid 1 inside), whose /proc entry reaches the mounts. */
  innerPid: number;
  namespace: MountNamespace;
  /** Ends the holder; the kernel then kills every process in the namespace and drops its mounts. */
  stop(): Promise<void>;
}

// Characters that overlayfs' option string (commas, colons) or the shell line below could misread.
const SAFE_PATH = /^\/[\w@%+=./-]*$/;
const START_TIMEOUT_MS = 30_000;

// pid 1 of the new pid namespace mounts the overlays, says so, and waits for its stdin (our pipe) to end.
// When this process dies, the pipe ends, pid 1 exits, and the kernel kills every process that joined the
// namespace: nothing can outlive us holding the mounts. `--kill-child` covers a SIGKILL of unshare itself.
// `userxattr` keeps overlayfs' own bookkeeping in user.* attributes, the only ones a user namespace may set;
// without it a new folder cannot even be renamed (EXDEV), which build tools do all the time (cargo's target/).
const HOLD = 'set -e; m=$1; shift; while [ $# -gt 0 ]; do "$m" -t overlay overlay -o "userxattr,lowerdir=$1,upperdir=$2,workdir=$3" "$4"; shift 4; done; echo ready; read -r _ || true';

/** True when overlayfs and the holder's shell line can carry `path` as is. */
export function isSafeMountPath(path: string): boolean {
  return SAFE_PATH.test(path);
}

/**
 * Starts a holder: a new user namespace (our uid mapped to root, which is what lets an unprivileged user
 * mount overlayfs), mount namespace (host mounts still propagate in; ours never propagate out) and pid
 * namespace, with `mounts` mounted inside. Resolves once they are mounted; rejects with the kernel's words.
 */
export async function startNamespace(tools: NamespaceTools, mounts: readonly OverlayMount[], signal?: AbortSignal): Promise<NamespaceHolder> {
  const words = mounts.flatMap((m) => [m.lower, m.upper, m.work, m.target]);
  const unsafe = words.find((word) => !isSafeMountPath(word));
  if (unsafe !== undefined) throw new AgentError(ErrorReason.InvalidArgument, `cannot mount an overlay at ${unsafe}: its path has characters overlayfs options cannot carry`);
  const child = spawn(tools.unshare, ['--user', '--map-root-user', '--mount', '--propagation', 'slave', '--pid', '--fork', '--kill-child',
    '--', 'sh', '-c', HOLD, 'hold', tools.mount, ...words], { cwd: '/', detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  await waitReady(child, signal);
  const pid = child.pid as number;
  const innerPid = firstChild(pid);
  // The holder must never keep this process alive; it ends with us anyway.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  const enterArgs = (pidNamespace: boolean) => [tools.nsenter, '-t', String(innerPid), '-U', '-m', ...(pidNamespace ? ['-p'] : []),
    '--preserve-credentials', '--wd=.', '--'];
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    pid, startTime: startTimeOf(pid) ?? 0, innerPid,
    namespace: { enter: enterArgs(true), enterKeepingPids: enterArgs(false), hostRoot: `/proc/${innerPid}/root` },
    stop: async () => {
      // Waiting for its exit must keep this process alive again.
      child.ref();
      child.stdin?.destroy();
      kill(pid);
      kill(innerPid);
      await exited;
    },
  };
}

/** Kills the holder recorded as (`pid`, `startTime`) if that very process still runs; false when it is gone. */
export function stopLeftHolder(pid: number, startTime: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || startTimeOf(pid) !== startTime) return false;
  kill(pid);
  return true;
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or null when it is gone. */
export function startTimeOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

function waitReady(child: ChildProcess, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (error: AgentError) => {
      cleanup();
      kill(child.pid);
      reject(error);
    };
    const onAbort = () => fail(new AgentError(ErrorReason.Cancelled, 'cancelled: starting the overlay namespace'));
    const timer = setTimeout(() => fail(new AgentError(ErrorReason.Io, `the overlay namespace did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString('utf8'); });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('ready\n')) {
        cleanup();
        resolve();
      }
    });
    child.on('error', (error) => fail(new AgentError(ErrorReason.Io, `could not start ${String(child.spawnfile)}: ${error.message}`)));
    child.on('exit', (code) => {
      if (out.includes('ready\n')) return;
      const line = err.split('\n').map((l) => l.trim()).find(Boolean) ?? `exit code ${code}`;
      fail(new AgentError(ErrorReason.Io, `could not set up the overlay namespace: ${line}`));
    });
  });
}

/** The host pid of the one child of `pid`: the namespace's pid 1, which `unshare --fork` started. */
function firstChild(pid: number): number {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number).filter((n) => n > 0);
    if (children.length > 0) return children[0];
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: fall through to the slower scan.
  }
  const found = scanChildren(pid);
  if (found === null) throw new AgentError(ErrorReason.Io, `the overlay namespace's first process (a child of ${pid}) was not found`);
  return found;
}

function scanChildren(parent: number): number | null {
  for (const name of readdirProc()) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) return Number(name);
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}

function readdirProc(): string[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name));
}

function kill(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
