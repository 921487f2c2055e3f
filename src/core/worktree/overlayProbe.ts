/** Finds out, once per process and folder, whether copy-on-write overlay workspaces work on this machine. */
import { mkdir, mkdtemp, readFile, realpath, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { defaultBaseDir } from './batchMarker.js';
import { isSafeMountPath, startNamespace, type NamespaceTools } from './namespaceHolder.js';
import { findProgram, pathDirs } from '../process/findProgram.js';
import { runProcess } from '../process/groupProcess.js';

/** Whether overlays can be made under a folder here, with the programs to make them, or why not. */
export interface OverlaySupport {
  available: boolean;
  /** Why not, written for the user. */
  reason?: string;
  tools?: NamespaceTools;
}

/** Options of `probeOverlays`. */
export interface ProbeOverlayOptions {
  /** Folder the overlays' layers go in (their filesystem must support an overlay's upper layer). */
  baseDir?: string;
  /** bubblewrap, when commands will be sandboxed: it must also work nested inside the namespace. */
  bwrapPath?: string;
}

const BWRAP_TIMEOUT_MS = 15_000;
// Where util-linux's programs live on common distributions, in case PATH (a GUI session's) lacks sbin.
const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];
const cache = new Map<string, Promise<OverlaySupport>>();

/**
 * Makes one real overlay in a private namespace under the base folder, writes through it, and, given
 * bubblewrap, runs an empty sandbox over it from inside; the answer (cached) says why not where any of
 * it fails. Costs a few tens of milliseconds.
 */
export function probeOverlays(options: ProbeOverlayOptions = {}): Promise<OverlaySupport> {
  const plain = options.baseDir ?? '';
  const key = `${plain}\0${options.bwrapPath ?? ''}`;
  let support = cache.get(key);
  if (!support) {
    support = probe(options.baseDir ?? defaultBaseDir(), options.bwrapPath);
    cache.set(key, support);
    // Overlays that passed with the sandbox inside them pass without it too.
    if (options.bwrapPath && !cache.has(`${plain}\0`)) {
      const passed = support;
      cache.set(`${plain}\0`, passed.then((s) => (s.available ? s : probe(options.baseDir ?? defaultBaseDir(), undefined))));
    }
  }
  return support;
}

async function probe(baseDir: string, bwrapPath: string | undefined): Promise<OverlaySupport> {
  const no = (reason: string): OverlaySupport => ({ available: false, reason });
  if (process.platform !== 'linux') return no(`overlay workspaces need Linux; this machine runs ${process.platform}`);
  const found = await Promise.all(['unshare', 'nsenter', 'mount'].map((name) => findProgram(name, [...pathDirs(), ...SYSTEM_DIRS])));
  const missing = ['unshare', 'nsenter', 'mount'].filter((_, k) => !found[k]);
  if (missing.length > 0) return no(`${missing.join(', ')} not found (util-linux)`);
  const tools: NamespaceTools = { unshare: found[0]!, nsenter: found[1]!, mount: found[2]! };
  // A folder made only for the probe goes again with it; batches make it for good when they need it.
  const made = await mkdir(baseDir, { recursive: true });
  try {
    return await probeIn(await realpath(baseDir), tools, bwrapPath);
  } finally {
    if (made !== undefined) await removeEmptyUpTo(baseDir, made);
  }
}

async function probeIn(base: string, tools: NamespaceTools, bwrapPath: string | undefined): Promise<OverlaySupport> {
  const no = (reason: string): OverlaySupport => ({ available: false, reason });
  if (!isSafeMountPath(base)) return no(`the folder ${base} has characters that overlay mount options cannot carry`);
  const dir = await mkdtemp(join(base, '.probe-'));
  try {
    const [lower, upper, work, target] = ['lower', 'upper', 'work', 'merged'].map((name) => join(dir, name));
    await Promise.all([lower, upper, work, target].map((d) => mkdir(d)));
    await writeFile(join(lower, 'file'), 'lower\n');
    const holder = await startNamespace(tools, [{ lower, upper, work, target }]).catch((error: Error) => error);
    if (holder instanceof Error) {
      return no(`${holder.message}. Unprivileged user namespaces or overlayfs may be unavailable: check the sysctls `
        + 'user.max_user_namespaces and kernel.unprivileged_userns_clone, or, on Ubuntu 24.04 and later, '
        + 'kernel.apparmor_restrict_unprivileged_userns; overlayfs in a user namespace needs Linux 5.11');
    }
    try {
      const merged = holder.namespace.hostRoot + target;
      await writeFile(join(merged, 'written'), 'upper\n');
      const through = await readFile(join(merged, 'file'), 'utf8');
      const landed = await readFile(join(upper, 'written'), 'utf8').catch(() => '');
      if (through !== 'lower\n' || landed !== 'upper\n') return no('writes through the overlay did not land in its upper layer');
      // Tools make a folder under a temporary name and rename it into place (cargo, pip, npm).
      await mkdir(join(merged, 'made'));
      const renamed = await rename(join(merged, 'made'), join(merged, 'moved')).then(() => null, (error: Error) => error.message);
      if (renamed !== null) return no(`a new folder in an overlay cannot be renamed (${renamed}); the upper layer's filesystem may lack user extended attributes`);
      if (bwrapPath) {
        const failure = await nestedSandbox(holder.namespace.enterKeepingPids, bwrapPath, target);
        if (failure !== null) return no(`bubblewrap cannot sandbox commands inside the overlay namespace (${failure})`);
      }
    } finally {
      await holder.stop();
    }
    return { available: true, tools };
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Runs an empty sandbox with the mounts our sandboxes use over `target`; null when it ran, else its first error line. */
async function nestedSandbox(enter: string[], bwrapPath: string, target: string): Promise<string | null> {
  const args = [...enter.slice(1), bwrapPath, '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp',
    '--bind', target, target, '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    ...(process.getuid?.() !== 0 ? ['--unshare-user-try'] : []), '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
    '--chdir', target, '--', 'sh', '-c', 'echo ok > probe && test -s probe'];
  const run = await runProcess(enter[0], args, { timeoutMs: BWRAP_TIMEOUT_MS, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (run.exitCode === 0) return null;
  return run.stderr.split('\n').find((l) => l.trim() !== '')?.trim() ?? run.spawnError ?? (run.timedOut ? 'the sandbox did not finish in time' : `exit ${run.exitCode ?? run.signal}`);
}

/** Removes `dir` and its parents up to `top` (the first folder mkdir made), each only if empty. */
async function removeEmptyUpTo(dir: string, top: string): Promise<void> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (!(await rmdir(current).then(() => true, () => false)) || current === resolve(top) || dirname(current) === current) return;
  }
}

