/** The bubblewrap arguments that build one command's view of the filesystem, network and processes. */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { sep } from 'node:path';
import { gitDirs, type ReplacedFile } from './gitDirs.js';
import { pathInside } from './namespacedRunner.js';
import type { NetworkMode } from './sandboxTypes.js';
import { seccompArgs } from './seccomp.js';

/** Everything that decides one command's sandbox. */
export interface MountInput {
  /** Folders the command may write (symlinks resolved). */
  writable: string[];
  /** Paths inside `writable` kept read-only. */
  readOnly: string[];
  /** Paths to hide (missing ones are skipped). */
  hidden: string[];
  /** Host folder the command sees as /tmp, private to its runner; without one, an empty /tmp of the sandbox's own. */
  privateTmp?: string;
  /** An empty read-only file, mounted over hidden files (so they read as empty rather than failing). */
  emptyFile: string;
  network: NetworkMode;
  /** Files shown read-only even under a hidden path (the Node binary that relays to the proxy). */
  expose: string[];
  /** Files shown in place of others, after the git folders: a git config without its credentials. */
  replaced?: ReplacedFile[];
  /** Host path of the allow-list proxy's socket, in `allowlist` mode. */
  proxySocket?: string;
  /** The home folder, which a temp-folder mask must never cover. */
  home: string;
  cwd: string;
  /**
   * Writable folders that exist only inside the sandbox's mount namespace (overlay workspaces): paths under
   * `roots` are looked at through `hostRoot` (`/proc/<pid>/root`) and taken as they are, already real there.
   */
  view?: { hostRoot: string; roots: string[] };
}

/** Where the allow-list proxy's socket appears inside the sandbox. */
export const PROXY_SOCKET_INSIDE = '/tmp/.entropo-proxy.sock';

// The kernel's settings under the sandbox's /proc. bwrap covers them only where it sees them writable, and as
// root it does not see them so; yet root writes a 0644 sysctl without any capability, and one of them,
// kernel.core_pattern, names a program the host kernel runs as root.
const KERNEL_SETTINGS = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus'];

const NAMESPACES = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent',
  // A new session detaches the command from any terminal, so it cannot push keystrokes into it (TIOCSTI).
  '--new-session',
  // As root, bwrap keeps every capability unless told otherwise; without them the read-only mounts hold.
  '--cap-drop', 'ALL'];

/**
 * Builds the bwrap arguments, in mount order: the host read-only, private /tmp, masks over secrets, the
 * writable worktree, the git folders it needs (read-only), read-only and hidden paths inside the worktree,
 * then namespaces. The worktree's `.git` entry is always read-only: host-side git commands run in the
 * worktree later, and a rewritten `.git` could point them at a config that runs commands.
 */
export function bwrapArgs(input: MountInput): string[] {
  const writable = input.writable;
  const tmpRoots = privateTmpRoots(input.home);
  const look = lookup(input.view);
  const existing = (paths: string[]) => existingIn(paths, look);
  const git = gitBinds(writable, look);
  const visible = [...writable, ...git.binds];
  const hidden = existing(input.hidden)
    .filter((h) => !isUnder(h.path, tmpRoots) || isUnder(h.path, visible))
    .filter((h, _, all) => !all.some((o) => o !== h && o.dir && isStrictlyUnder(h.path, [o.path]) && !isUnder(h.path, writable)));
  const [inner, outer] = partition(hidden, (h) => isUnder(h.path, writable));
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', ...KERNEL_SETTINGS.flatMap((path) => ['--ro-bind-try', path, path]),
    ...(input.privateTmp ? ['--bind', input.privateTmp, '/tmp'] : ['--tmpfs', '/tmp'])];
  for (const root of tmpRoots.filter((r) => r !== '/tmp')) args.push('--tmpfs', root);
  args.push(...maskArgs(outer, input.emptyFile));
  for (const path of writable) args.push('--bind', path, path);
  for (const path of git.binds.filter((g) => !isUnder(g, writable))) args.push('--ro-bind', path, path);
  for (const { path, copy } of input.replaced ?? []) args.push('--ro-bind', copy, path);
  for (const { path } of existing([...git.readOnly, ...input.readOnly])) args.push('--ro-bind', path, path);
  args.push(...maskArgs(inner, input.emptyFile));
  for (const { path } of existing(input.expose)) args.push('--ro-bind', path, path);
  for (const { path } of hidden.filter((h) => h.dir)) args.push('--remount-ro', path);
  if (input.proxySocket) args.push('--ro-bind', input.proxySocket, PROXY_SOCKET_INSIDE);
  args.push(...networkArgs(input.network));
  // Without a user namespace of its own (a setuid bwrap does not make one unasked), RLIMIT_NPROC would count
  // every process of the user on the machine. Root needs none: it relies on the pids cgroup.
  if (process.getuid?.() !== 0) args.push('--unshare-user-try');
  return [...args, ...NAMESPACES, ...seccompArgs(), '--chdir', input.cwd];
}

interface PathInfo {
  path: string;
  dir: boolean;
}

function maskArgs(paths: PathInfo[], emptyFile: string): string[] {
  return paths.flatMap(({ path, dir }) => (dir ? ['--tmpfs', path] : ['--ro-bind', emptyFile, path]));
}

function networkArgs(mode: NetworkMode): string[] {
  if (mode !== 'on') return ['--unshare-net'];
  // /run is hidden; systemd-resolved keeps the real resolv.conf there.
  const resolv = real('/etc/resolv.conf');
  return resolv && resolv.startsWith('/run/') ? ['--ro-bind', resolv, resolv] : [];
}

/** How paths are made real and looked at: on the host, or through the namespace's root under `view.roots`. */
interface Lookup {
  real(path: string): string | null;
  stat(path: string): Stats | null;
  /** A path found in a file read through the namespace (a `.git` pointer) as the path inside it. */
  inside(path: string): string;
  hostPath(path: string): string;
}

function lookup(view: MountInput['view']): Lookup {
  const within = (path: string) => view !== undefined && isUnder(path, view.roots);
  const hostPath = (path: string) => (within(path) ? view!.hostRoot + path : path);
  const inside = (path: string) => pathInside(path, view?.hostRoot);
  return {
    // realpath(3) through /proc/<pid>/root would land outside the namespace; the workspace is real there already.
    real: (path) => (within(path) ? (statOrNull(hostPath(path)) ? path : null) : real(path)),
    stat: (path) => statOrNull(hostPath(path)),
    inside,
    hostPath,
  };
}

/** Git folders of each writable checkout: shared data read-only, and the checkout's `.git` entry read-only. */
function gitBinds(writable: string[], look: Lookup): { binds: string[]; readOnly: string[] } {
  const binds = new Set<string>();
  const readOnly: string[] = [];
  for (const checkout of writable) {
    const found = gitDirs(look.hostPath(checkout));
    if (!found) continue;
    const dirs = { ...found, dotGit: look.inside(found.dotGit), commonDir: look.inside(found.commonDir), gitDir: look.inside(found.gitDir) };
    readOnly.push(dirs.dotGit);
    for (const path of [dirs.commonDir, dirs.gitDir, ...dirs.alternates]) {
      const resolved = look.real(path);
      if (resolved && ![...binds].some((b) => isUnder(resolved, [b]))) binds.add(resolved);
    }
  }
  return { binds: [...binds], readOnly };
}

/** /tmp, and the system temp folder when it is elsewhere (unless that would cover the home folder). */
function privateTmpRoots(home: string): string[] {
  const system = real(tmpdir()) ?? tmpdir();
  const roots = ['/tmp'];
  if (system !== '/tmp' && system !== '/' && !isUnder(home, [system])) roots.push(system);
  return roots;
}

// Synchronous on purpose: some fifty stats per command take well under a millisecond this way, while a
// trip through the thread pool for each costs milliseconds on a busy machine.
function existingIn(paths: string[], look: Lookup): PathInfo[] {
  const seen = new Map<string, PathInfo>();
  for (const path of paths) {
    const resolved = look.real(path);
    const info = resolved ? look.stat(resolved) : null;
    if (resolved && info && resolved !== '/' && !seen.has(resolved)) seen.set(resolved, { path: resolved, dir: info.isDirectory() });
  }
  return [...seen.values()];
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function real(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** True when `path` equals one of `roots` or lies below it. */
export function isUnder(path: string, roots: string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
}

function isStrictlyUnder(path: string, roots: string[]): boolean {
  return roots.some((root) => path !== root && isUnder(path, [root]));
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

