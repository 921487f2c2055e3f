/** Finds out, once per process, whether bubblewrap can sandbox commands on this machine. */
import { findProgram, isExecutable, pathDirs } from '../process/findProgram.js';
import { runProcess } from '../process/groupProcess.js';
import { detectCgroups } from './cgroups.js';
import type { SandboxSupport } from './sandboxTypes.js';

/** Options of `detectSandbox`. */
export interface DetectSandboxOptions {
  /** A bwrap binary to use instead of the one on PATH. */
  bwrapPath?: string;
}

// The namespaces and mounts every sandboxed command needs; if this runs, they all work.
const PROBE = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--remount-ro', '/tmp',
  '--unshare-pid', '--unshare-net', '--unshare-ipc', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--', 'true'];
const PROBE_TIMEOUT_MS = 15_000;
const cache = new Map<string, Promise<SandboxSupport>>();

/**
 * Whether commands can run in a bubblewrap sandbox here: Linux, a bwrap binary, and namespaces it may create
 * (checked by running one empty sandbox). The answer is cached; it also says how limits are enforced.
 */
export function detectSandbox(options: DetectSandboxOptions = {}): Promise<SandboxSupport> {
  const key = options.bwrapPath ?? '';
  let support = cache.get(key);
  if (!support) {
    support = probe(options.bwrapPath);
    cache.set(key, support);
  }
  return support;
}

async function probe(explicitPath: string | undefined): Promise<SandboxSupport> {
  const unavailable = (reason: string): SandboxSupport =>
    ({ available: false, kind: 'bubblewrap', reason, limits: { memory: 'none', processes: 'none' } });
  if (process.platform !== 'linux') {
    return unavailable(`The command sandbox uses bubblewrap, which needs Linux; this machine runs ${process.platform}.`);
  }
  if (explicitPath && !(await isExecutable(explicitPath))) return unavailable(`No bubblewrap executable at ${explicitPath}.`);
  const bwrapPath = explicitPath ?? await findProgram('bwrap', pathDirs(process.env.PATH ?? '/usr/bin:/bin'));
  if (!bwrapPath) {
    return unavailable('bubblewrap is not installed (no `bwrap` on PATH): install it, e.g. `sudo apt-get install bubblewrap` or `sudo dnf install bubblewrap`.');
  }
  const failure = await runProbe(bwrapPath);
  if (failure !== null) {
    return unavailable(`bubblewrap cannot create a sandbox here (${failure}). User namespaces may be disabled: check `
      + 'the sysctls user.max_user_namespaces and kernel.unprivileged_userns_clone, or, on Ubuntu 24.04 and later, '
      + 'kernel.apparmor_restrict_unprivileged_userns.');
  }
  const cgroups = await detectCgroups();
  const root = process.getuid?.() === 0;
  return {
    available: true,
    kind: 'bubblewrap',
    bwrapPath,
    ...(cgroups ? { cgroups } : {}),
    limits: {
      memory: cgroups?.memory ? 'cgroup' : 'rlimit',
      // Linux does not apply RLIMIT_NPROC to root, so without a pids cgroup root gets no process cap.
      processes: cgroups?.pids ? 'cgroup' : root ? 'none' : 'rlimit',
    },
  };
}

/** Null when the probe sandbox ran, else the first line of what went wrong. */
async function runProbe(bwrapPath: string): Promise<string | null> {
  const run = await runProcess(bwrapPath, PROBE, { timeoutMs: PROBE_TIMEOUT_MS, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (run.exitCode === 0) return null;
  const line = run.stderr.split('\n').find((l) => l.trim() !== '');
  return line?.trim() ?? run.spawnError ?? (run.timedOut ? `bwrap did not finish within ${PROBE_TIMEOUT_MS / 1000} s` : `bwrap exited with ${run.exitCode ?? run.signal}`);
}

