/** Extracts a candidate's patch from its worktree, applies patches, and lists the files a patch touches. */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import type { HelperSandbox } from '../sandbox/helperSandbox.js';
import { warnOfFailedDrivers, withContainedFilters } from './filterDrivers.js';
import { copyIndex, errorLine, git, gitResult, gitSucceeded, type GitOptions } from './git.js';
import { parsePatch } from './parse.js';
import { removeScratchDir, scratchDir } from '../node/scratchDir.js';

/**
 * Names of files an agent typically creates only to reproduce or probe an issue. A pattern without a slash
 * matches any path component (so `__pycache__` drops everything below such a folder); one with a slash
 * matches the whole path, with `*` inside a component and `**` across components.
 */
export const DEFAULT_SCRATCH_PATTERNS: readonly string[] = [
  'reproduce*',
  'repro*.*',
  'test_repro*',
  'scratch*',
  'debug_*.py',
  'tmp_*',
  '*.orig',
  '*.rej',
  '*.bak',
  '*.swp',
  '*.pyc',
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  '.DS_Store',
];

/** Options of `extractPatch`. */
export interface ExtractPatchOptions {
  /** Added files matching these are left out; defaults to DEFAULT_SCRATCH_PATTERNS. */
  scratchPatterns?: readonly string[];
  /** Paths (relative to the worktree root, or absolute inside it) kept even if they look like scratch. */
  keep?: readonly string[];
  /** Folders of the user's installed dependencies linked into the tree (dependencyLinks.ts): never part of a patch. */
  linked?: readonly string[];
  /** Told when a contained filter driver failed, so that files went into the patch unconverted. */
  onWarning?: (message: string) => void;
  /**
   * Where the repository's filter drivers run, since the agent wrote in this tree: a helper sandbox of it
   * (sandbox/helperSandbox.ts); without one they run as configured (see filterDrivers.ts).
   */
  filterSandbox?: HelperSandbox;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Options of `applyPatch`. */
export interface ApplyPatchOptions {
  /** Only check that the patch applies; change nothing. */
  check?: boolean;
  /** The namespace of an overlay workspace, whose files git must see. */
  namespace?: GitOptions['namespace'];
  /** Where filter drivers run in a tree that patches from the agent are applied to (see `ExtractPatchOptions`). */
  filterSandbox?: HelperSandbox;
  /** Told when a contained filter driver failed, so that files were written unconverted. */
  onWarning?: (message: string) => void;
  /** Take the patch out (`git apply -R`) instead of putting it in. */
  reverse?: boolean;
  /** The error for a patch that does not apply, given the files it fails on; default: that those files changed since it was made. */
  refused?: (files: string[]) => AgentError;
  signal?: AbortSignal;
  timeoutMs?: number;
}

// Explicit flags so that the user's diff configuration (noprefix, external diff, color, submodule=log,
// relative) cannot produce a patch that `git apply` misreads.
const DIFF_FLAGS = [
  'diff',
  '--cached',
  '--binary',
  '-M',
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '--no-relative',
  '--submodule=short',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

/**
 * The diff from the snapshot commit to the worktree's current files, new files included, as a patch that
 * `git apply` accepts. Only files the agent added can be scratch: a change to a file that existed in the
 * snapshot is always part of the patch, whatever its name.
 */
export async function extractPatch(dir: string, snapshotCommit: string, options: ExtractPatchOptions = {}): Promise<string> {
  const root = (await git(['rev-parse', '--show-toplevel'], { ...options, cwd: dir })).trim();
  const indexPath = resolve(root, (await git(['rev-parse', '--git-path', 'index'], { ...options, cwd: root })).trim());
  const scratch = await scratchDir('entropo-patch-');
  try {
    const tempIndex = join(scratch, 'index');
    await copyIndex(indexPath, tempIndex);
    const base = { signal: options.signal, timeoutMs: options.timeoutMs, cwd: root };
    return await withContainedFilters(options.filterSandbox, base, async (filters) => {
      const opts = { ...base, env: { GIT_INDEX_FILE: tempIndex }, filters };
      // Stats every file of the tree: on a large checkout and a slow disk that has no useful time limit.
      const added = await gitSucceeded(['add', '-A', '--', ':/', ...await submoduleExcludes(opts)], { ...opts, timeoutMs: options.timeoutMs ?? Infinity });
      warnOfFailedDrivers(added.stderr, options.onWarning, root);
      return patchOfIndex(opts, root, snapshotCommit, options);
    });
  } finally {
    await removeScratchDir(scratch);
  }
}

/**
 * Pathspecs that keep `git add` out of the submodules the index records (gitlinks). For a submodule folder
 * that holds a repository, `add` runs git inside it, which reads that repository's own config and attributes:
 * a filter driver the agent wrote there would run outside the sandbox, on the host. So a candidate never
 * changes the commit a submodule records; changes inside a submodule are not the repository's anyway.
 */
export async function submoduleExcludes(opts: GitOptions): Promise<string[]> {
  const listed = await git(['ls-files', '--stage', '-z'], opts);
  return listed.split('\0').filter((entry) => entry.startsWith('160000 ')).map((entry) => `:(exclude,literal)${entry.slice(entry.indexOf('\t') + 1)}`);
}

/**
 * The patch from the snapshot commit to the index that `git` (with `opts`, whose environment names the index)
 * holds, after dropping the files it adds that look like scratch. `root` is the workspace's top level as the
 * agent sees it, against which `options.keep` paths are read.
 */
export async function patchOfIndex(opts: GitOptions, root: string, snapshotCommit: string, options: ExtractPatchOptions = {}): Promise<string> {
  const addedOut = await git(['diff', '--cached', '--name-only', '-z', '--no-renames', '--diff-filter=A', snapshotCommit], opts);
  const keep = new Set((options.keep ?? []).map((path) => normalizePath(root, path)));
  const patterns = options.scratchPatterns ?? DEFAULT_SCRATCH_PATTERNS;
  const linked = options.linked ?? [];
  const isLinked = (path: string) => linked.some((name) => path === name || path.startsWith(`${name}/`));
  const dropped = addedOut.split('\0').filter((path) => path && (isLinked(path) || (!keep.has(path) && isScratch(path, patterns))));
  if (dropped.length > 0) {
    await git(['update-index', '--force-remove', '-z', '--stdin'], { ...opts, input: dropped.join('\0') + '\0' });
  }
  return git([...DIFF_FLAGS, snapshotCommit], opts);
}

/** Applies a patch to the files under `dir` (a worktree's top level), after checking that all of it applies. */
export async function applyPatch(dir: string, patch: string, options: ApplyPatchOptions = {}): Promise<void> {
  if (patch.trim() === '') return;
  const base = { signal: options.signal, timeoutMs: options.timeoutMs, namespace: options.namespace, cwd: dir };
  await withContainedFilters(options.filterSandbox, base, async (filters) => {
    const opts = { ...base, input: patch, filters };
    const apply = ['apply', ...(options.reverse ? ['-R'] : []), '--whitespace=nowarn'];
    const checked = await gitResult([...apply, '--check', '-'], opts);
    if (checked.code !== 0) {
      const files = failingFiles(checked.stderr);
      if (options.refused) throw options.refused(files);
      const where = files.length > 0 ? ` to ${files.join(', ')}` : '';
      throw new AgentError(
        ErrorReason.PatchDoesNotApply,
        `The patch does not apply${where}: those files changed since the patch was made (${errorLine(checked.stderr)}).`,
        { cause: checked },
      );
    }
    if (!options.check) warnOfFailedDrivers((await gitSucceeded([...apply, '-'], opts)).stderr, options.onWarning, dir);
  });
}

/** Files a patch touches, in patch order: new paths, deleted paths, and both sides of a rename. */
export function changedFiles(patch: string): string[] {
  const paths = new Set<string>();
  for (const file of parsePatch(patch)) {
    if (file.oldPath !== null && file.status !== 'copied') paths.add(file.oldPath);
    if (file.newPath !== null) paths.add(file.newPath);
  }
  return [...paths];
}

/** True when `path` (slash-separated, relative) matches one of the scratch patterns. */
export function isScratch(path: string, patterns: readonly string[]): boolean {
  const segments = path.split('/');
  return patterns.some((pattern) => {
    const regex = globToRegExp(pattern);
    return pattern.includes('/') ? regex.test(path) : segments.some((segment) => regex.test(segment));
  });
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

// git apply reports the failing file in a few phrasings: "patch failed: a.py:12", "a.py: patch does not
// apply", "new.py: already exists in working directory", "old.py: No such file or directory".
function failingFiles(stderr: string): string[] {
  const files = new Set<string>();
  for (const line of stderr.split('\n')) {
    const failed = /^error: patch failed: (.+):\d+$/.exec(line);
    const other = /^error: (.+?): (patch does not apply|already exists in working directory|No such file or directory|does not exist in index|does not match index|wrong type)$/.exec(line);
    const path = failed?.[1] ?? other?.[1];
    if (path) files.add(path);
  }
  return [...files];
}

function normalizePath(root: string, path: string): string {
  const slashed = path.replace(/\\/g, '/');
  const rel = isAbsolute(slashed) ? relative(root, slashed) : slashed;
  return rel.replace(/^(\.\/)+/, '');
}
