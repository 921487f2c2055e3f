/**
 * Git's filter drivers in workspaces the agent wrote in. A driver (`filter.<name>.clean`, `.smudge` or
 * `.process` in any git config the repository reads) is a shell command that git runs on file contents during
 * `add`, `update-index`, `apply` and `checkout`, in the work tree's top folder. One that names a file of the
 * tree (`./tools/clean.sh`, `python -m tool`) runs whatever the agent left there, and our git runs on the
 * host. So in those workspaces each driver runs inside a helper sandbox of the workspace
 * (sandbox/helperSandbox.ts), through a script of ours that expands its command exactly as git would: it
 * still turns contents into what git stores, so untouched files stay equal and a patch means what it would,
 * but it writes nothing, reaches no network, sees no secret and is stopped after a while. Git LFS's own
 * driver, exactly as its installer writes it, runs as configured, by its absolute path: it must write its
 * object store, it is a program of the machine rather than a file of the tree, and it reads only its own
 * transfer settings from the tree's `.lfsconfig`.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { findProgram, pathDirs } from '../process/findProgram.js';
import { shellQuote } from '../process/shellQuote.js';
import { gitConfigsWithoutCredentials } from '../sandbox/gitDirs.js';
import { helperSandboxArgv, helperSandboxEnv, type HelperSandbox } from '../sandbox/helperSandbox.js';
import { seccompRedirect } from '../sandbox/seccomp.js';
import { isUnder } from '../sandbox/mountPlan.js';
import { pathInside } from '../sandbox/namespacedRunner.js';
import { git, gitFailed, gitResult, type GitOptions } from './git.js';
import { removeScratchDir, scratchDir } from '../node/scratchDir.js';

type DriverKind = 'clean' | 'smudge' | 'process';

const DRIVER_KEY = /^filter\.(.+)\.(clean|smudge|process)$/;
// Git LFS's driver as `git lfs install` writes it (with --skip-smudge: `--skip`), and nothing more.
const GIT_LFS = /^git-lfs (clean -- %f|smudge (--skip )?-- %f|filter-process( --skip)?)$/;
// A run of one clean or smudge command, and of a long-running `process` driver, which serves a whole git command.
const SECONDS = { clean: 120, smudge: 120, process: 1800 };
// The memory of a driver's processes (RLIMIT_DATA, KiB), as for the agent's commands.
const MEMORY_KIB = 4 * 1024 * 1024;

/**
 * Runs `body` with the environment under which git, run with `opts` in a workspace's top folder, starts every
 * configured filter driver inside a helper sandbox of that workspace (none to add without `sandbox`, where the
 * agent's own commands ran uncontained, with the user's consent; nor without drivers). The entries are git's
 * configuration by environment (GIT_CONFIG_COUNT), after any the caller's environment holds: a driver's name
 * may hold a `=`, which a `-c` argument cannot say. Their scripts live in a private folder for `body`'s time.
 */
export async function withContainedFilters<T>(sandbox: HelperSandbox | undefined, opts: GitOptions,
  body: (filters: Record<string, string> | undefined) => Promise<T>): Promise<T> {
  const drivers = sandbox ? await configuredDrivers(opts) : [];
  if (!sandbox || drivers.length === 0) return body(undefined);
  const scratch = await scratchDir('entropo-drivers-');
  try {
    // The workspace as git, and so each driver, sees it: inside the overlay's namespace, given one.
    const hostRoot = opts.namespace?.hostRoot;
    const inside = pathInside(opts.cwd, hostRoot);
    const argv = helperSandboxArgv(sandbox, inside, hostRoot, await gitConfigsWithoutCredentials([inside], scratch, hostRoot));
    const env = helperSandboxEnv(sandbox);
    const first = Number(process.env.GIT_CONFIG_COUNT ?? 0) || 0;
    const filters: Record<string, string> = { GIT_CONFIG_COUNT: String(first + drivers.length) };
    for (const [i, { key, kind, command }] of drivers.entries()) {
      // Looked for only in absolute folders outside the workspace: a relative PATH entry is the work tree.
      const lfs = GIT_LFS.test(command.trim())
        ? await findProgram('git-lfs', pathDirs().filter((dir) => isAbsolute(dir) && !isUnder(dir, [inside]))) : undefined;
      let value: string;
      if (lfs) value = command.trim().replace(/^git-lfs/, shellQuote(lfs).replace(/%/g, '%%'));
      else {
        const script = join(scratch, `driver-${i}`);
        await writeFile(script, driverScript(kind, command, argv, env));
        await chmod(script, 0o700);
        // git expands %f (the path, quoted) in a clean or smudge command; a process driver is started as it is.
        value = kind === 'process' ? shellQuote(script) : `${shellQuote(script).replace(/%/g, '%%')} %f`;
      }
      filters[`GIT_CONFIG_KEY_${first + i}`] = key;
      filters[`GIT_CONFIG_VALUE_${first + i}`] = value;
    }
    return await body(filters);
  } finally {
    await removeScratchDir(scratch);
  }
}

/**
 * The drivers configured for the work tree at `opts.cwd` that run commands a candidate may have changed (every
 * one but Git LFS's own, see GIT_LFS), as `key (command)`: without a sandbox, none of them may run. Given the
 * `files` git will convert, only the drivers their attributes name count, unless one of them is a
 * `.gitattributes` (which may name any driver for any file).
 */
export async function uncontainedDrivers(opts: GitOptions, files?: readonly string[]): Promise<string[]> {
  let drivers = (await configuredDrivers(opts)).filter((d) => !GIT_LFS.test(d.command.trim()));
  if (files !== undefined && drivers.length > 0 && !files.some((file) => basename(file) === '.gitattributes')) {
    const used = await filtersNamed(opts, files);
    drivers = drivers.filter((d) => used.has(DRIVER_KEY.exec(d.key)![1]));
  }
  return drivers.map((d) => `${d.key} (\`${d.command}\`)`);
}

/** The filter drivers that the attributes of `files` name (`filter=NAME`). */
async function filtersNamed(opts: GitOptions, files: readonly string[]): Promise<Set<string>> {
  if (files.length === 0) return new Set();
  // With -z: path, attribute and value, each ended by a NUL.
  const out = await git(['check-attr', '-z', '--stdin', 'filter'], { ...opts, filters: undefined, input: `${files.join('\0')}\0` });
  const parts = out.split('\0');
  const used = new Set<string>();
  for (let i = 2; i < parts.length; i += 3) if (!['unspecified', 'unset', 'set'].includes(parts[i])) used.add(parts[i]);
  return used;
}

/** The drivers git would use: the last value of each key (system, global, the repository's, the environment's), none switched off. */
async function configuredDrivers(opts: GitOptions): Promise<{ key: string; kind: DriverKind; command: string }[]> {
  const args = ['config', '-z', '--get-regexp', DRIVER_KEY.source];
  const listed = await gitResult(args, { ...opts, filters: undefined });
  // Exit 1: no driver is configured.
  if (listed.code === 1) return [];
  if (listed.code !== 0) throw gitFailed(args, opts.cwd, listed);
  const last = new Map<string, string>();
  for (const entry of listed.stdout.split('\0')) {
    const cut = entry.indexOf('\n');
    if (cut > 0) last.set(entry.slice(0, cut), entry.slice(cut + 1));
  }
  // An empty command is no driver at all (a config that turns one off): there is nothing to run.
  return [...last].filter(([, command]) => command.trim() !== '')
    .map(([key, command]) => ({ key, kind: DRIVER_KEY.exec(key)![2] as DriverKind, command }));
}

/**
 * The bash script git runs as the driver: with the sandbox's environment only (git's holds the user's keys,
 * and a script's environment, unlike its arguments, is not for every user to read), the command expanded as
 * git's convert.c expands it (see `expansion`; `%f` is the path, quoted), run the way git runs a shell
 * command (`sh -c CMD CMD`), inside the sandbox, with a memory cap and a time limit.
 */
export function driverScript(kind: DriverKind, command: string, argv: readonly string[], env: Record<string, string>): string {
  const exports = Object.entries(env).filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  const expand = kind === 'process' ? [`cmd=${shellQuote(command)}`] : [QUOTE_PATH, `cmd=${expansion(command).map(shellQuote).join('"$q"')}`];
  return [
    '#!/bin/bash',
    '# A filter driver of the repository, run contained (see src/core/worktree/filterDrivers.ts).',
    'for name in $(compgen -e); do unset "$name" 2>/dev/null; done',
    ...exports,
    ...expand,
    `ulimit -d ${MEMORY_KIB} 2>/dev/null; ulimit -c 0`,
    // bwrap reads its seccomp program from a descriptor (see sandbox/seccomp.ts), fed here by the script.
    `exec timeout -k 5 ${SECONDS[kind]} ${argv.map(shellQuote).join(' ')} -- sh -c "$cmd" "$cmd"${argv.includes('--seccomp') ? ` ${seccompRedirect()}` : ''}`,
    '',
  ].join('\n');
}

// Bash: the script's first argument (the path) single-quoted as git's sq_quote does, `'` as '\'' and `!` as '\!'.
const QUOTE_PATH = 'q=$' + "{1//\\'/\\'\\\\\\'\\'}; q=$" + "{q//!/\\'\\\\!\\'}; q=\"'$q'\"";

/** The literal pieces of a clean or smudge command between its `%f`s, with `%%` read as `%` and any other `%` kept, as git's strbuf_expand reads it. */
export function expansion(command: string): string[] {
  const parts = [''];
  for (let i = 0; i < command.length; i++) {
    const next = command[i] === '%' ? command[i + 1] : undefined;
    if (next === 'f') parts.push('');
    else parts[parts.length - 1] += next === '%' ? '%' : command[i];
    if (next === 'f' || next === '%') i++;
  }
  return parts;
}

// How git says that a filter driver could not convert a file, which it then stores as it is.
const DRIVER_FAILED = /^error: (cannot fork to run external filter|cannot feed the input to external filter|read from external filter|external filter) .*/;

/**
 * Tells `warn` once when git's stderr says a driver failed (a contained one that needs to write, or needs a
 * hidden file): git went on and stored those files unconverted, so the patch holds them as they are on disk.
 */
export function warnOfFailedDrivers(stderr: string, warn: ((message: string) => void) | undefined, where: string): void {
  const failed = stderr.split('\n').find((line) => DRIVER_FAILED.test(line.trim()));
  if (failed && warn) warn(`a filter driver of the repository failed in its sandbox in ${where}, so git took files as they are on disk, unconverted (${failed.trim()}).`);
}
