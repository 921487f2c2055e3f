/**
 * Git's filter drivers in workspaces the agent wrote in. A driver (`filter.<name>.clean`, `.smudge` or
 * `.process` in any git config the repository reads) is a shell command that git runs on file contents during
 * `add`, `update-index`, `apply` and `checkout`, in the work tree's top folder. One that names a file of the
 * tree (`./tools/clean.sh`, `python -m tool`) runs whatever the agent left there, and our git runs on the
 * host. So in those workspaces each driver runs inside a helper sandbox of the workspace (sandbox/helperSandbox.ts): it still
 * turns contents into what git stores, so untouched files stay equal and a patch means what it would, but it
 * writes nothing, reaches no network and sees no secret. Git LFS's driver runs as configured: it must write
 * its object store, it is a program of the machine rather than a file of the tree, and it reads only its own
 * transfer settings from the tree's `.lfsconfig`.
 */
import { shellQuote } from '../process/shellQuote.js';
import { helperSandboxArgv, type HelperSandbox } from '../sandbox/helperSandbox.js';
import { gitFailed, gitResult, type GitOptions } from './git.js';

type DriverKind = 'clean' | 'smudge' | 'process';

const DRIVER_KEY = /^filter\.(.+)\.(clean|smudge|process)$/;
// As Git LFS's installer sets it (`git-lfs clean -- %f`, `git-lfs filter-process`), found on PATH or by an
// absolute path; `./git-lfs` would be a file of the tree.
const GIT_LFS = /^\s*(git-lfs|\/\S*\/git-lfs|git\s+lfs)(\s|$)/;

/**
 * The `-c` arguments under which git, run with `opts` in a workspace's top folder, starts every configured
 * filter driver but Git LFS's inside a helper sandbox of that workspace; none without `sandbox`, where the
 * agent's own commands ran uncontained, with the user's consent.
 */
export async function containedFilters(sandbox: HelperSandbox | undefined, opts: GitOptions): Promise<string[]> {
  if (!sandbox) return [];
  const args = ['config', '-z', '--get-regexp', DRIVER_KEY.source];
  const listed = await gitResult(args, opts);
  // Exit 1: no driver is configured.
  if (listed.code === 1) return [];
  if (listed.code !== 0) throw gitFailed(args, opts.cwd, listed);
  // Later configs override earlier ones (system, global, the repository's); the last value is the one git uses.
  const drivers = new Map<string, string>();
  for (const entry of listed.stdout.split('\0')) {
    const cut = entry.indexOf('\n');
    if (cut > 0) drivers.set(entry.slice(0, cut), entry.slice(cut + 1));
  }
  // The workspace as git, and so the driver, sees it: inside the overlay's namespace, given one.
  const hostRoot = opts.namespace?.hostRoot;
  const inside = hostRoot && opts.cwd.startsWith(`${hostRoot}/`) ? opts.cwd.slice(hostRoot.length) : opts.cwd;
  const argv = helperSandboxArgv(sandbox, inside, hostRoot);
  return [...drivers].flatMap(([key, command]) => {
    const kind = DRIVER_KEY.exec(key)?.[2] as DriverKind | undefined;
    // An empty command is no driver at all (a config that turns one off): there is nothing to contain.
    if (!kind || command.trim() === '' || GIT_LFS.test(command)) return [];
    return ['-c', `${key}=${containedDriver(kind, command, argv)}`];
  });
}

/**
 * The driver command that runs `command` inside the sandbox that `argv` starts. Git expands `%f` (the file's path, quoted) and `%%`
 * in a clean or smudge command before its shell runs it: the sandboxed shell gets the path as `$1` instead, and
 * every other `%` is doubled so that git's expansion gives it back. A `process` driver is started once and
 * never expanded.
 */
export function containedDriver(kind: DriverKind, command: string, argv: readonly string[]): string {
  const prefix = [...argv.map(shellQuote), '--', 'sh', '-c'].join(' ');
  if (kind === 'process') return `${prefix} ${shellQuote(command)}`;
  const inner = command.replace(/%([%f]?)/g, (_, code: string) => (code === 'f' ? '"$1"' : '%'));
  return `${prefix} ${shellQuote(inner)} sh`.replace(/%/g, '%%') + ' %f';
}
