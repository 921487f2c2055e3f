/** Test helpers: real temporary git repositories and byte-level digests of their state. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// Hermetic git: no user or system configuration, so tests see what a user with a bare setup sees
// (including no identity: our snapshot commits must not need one).
const configDir = mkdtempSync(join(tmpdir(), 'entropo-gitcfg-'));
writeFileSync(join(configDir, 'gitconfig'), '');
process.env.GIT_CONFIG_GLOBAL = join(configDir, 'gitconfig');
process.env.GIT_CONFIG_NOSYSTEM = '1';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
};

const created: string[] = [configDir];

/** A new empty temporary directory, removed by `cleanup`. */
export function tempDir(prefix = 'entropo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every directory made by `tempDir` (call once, after the file's last test). */
export function cleanup(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs git synchronously for test setup and returns its stdout. */
export function sh(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'protocol.file.allow=always', ...args], {
    cwd,
    env: { ...process.env, ...IDENTITY },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Writes files (creating folders) under `root`. */
export function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A new repository with `files` committed on `main` (no commit when `files` is null). */
export function makeRepo(files: Record<string, string | Buffer> | null): string {
  const root = tempDir('entropo-repo-');
  sh(root, ['init', '-q', '-b', 'main']);
  if (files) {
    write(root, files);
    sh(root, ['add', '-A']);
    sh(root, ['commit', '-q', '-m', 'initial']);
  }
  return root;
}

/** One file as git would record it: mode and content (a gitlink's content is the commit id). */
export interface FileEntry {
  mode: string;
  content: string;
}

/** Files of the working tree under `root` (no .git, nothing `skip` rejects), keyed by slash path. */
export function workingFiles(root: string, skip: (path: string) => boolean = () => false): Map<string, FileEntry> {
  const files = new Map<string, FileEntry>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.name === '.git' || skip(path)) continue;
      const abs = join(root, path);
      const info = lstatSync(abs);
      if (info.isSymbolicLink()) files.set(path, { mode: '120000', content: readlinkSync(abs) });
      else if (info.isDirectory()) walk(path);
      else files.set(path, { mode: info.mode & 0o100 ? '100755' : '100644', content: digest(readFileSync(abs)) });
    }
  };
  walk('');
  return files;
}

/** Files of a commit's tree, in the same shape as `workingFiles`. */
export function commitFiles(repo: string, commit: string): Map<string, FileEntry> {
  const files = new Map<string, FileEntry>();
  for (const record of sh(repo, ['ls-tree', '-r', '-z', '--full-tree', commit]).split('\0').filter(Boolean)) {
    const [meta, path] = record.split('\t');
    const [mode, type, oid] = meta.split(' ');
    if (type !== 'blob') {
      files.set(path, { mode, content: oid });
      continue;
    }
    const blob = execFileSync('git', ['cat-file', 'blob', oid], { cwd: repo });
    files.set(path, { mode, content: mode === '120000' ? blob.toString('utf8') : digest(blob) });
  }
  return files;
}

/**
 * Every file and folder under `root`, .git included except its object store (which a snapshot must add
 * to), with type, mode and content hash: equal digests mean the user's state is byte-identical.
 */
export function stateDigest(root: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (path === '.git/objects') continue;
      const info = lstatSync(join(root, path));
      if (info.isDirectory()) {
        lines.push(`d ${path}`);
        walk(path);
      } else {
        const content = info.isSymbolicLink() ? readlinkSync(join(root, path)) : readFileSync(join(root, path));
        lines.push(`f ${(info.mode & 0o777).toString(8)} ${digest(content)} ${path}`);
      }
    }
  };
  walk('');
  return lines;
}

/** sha256 of a buffer or string, hex. */
export function digest(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Worktrees git knows of in `repo`, as absolute paths. */
export function worktreeList(repo: string): string[] {
  return sh(repo, ['worktree', 'list', '--porcelain'])
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length));
}

/** Refs under refs/entropo/. */
export function entropoRefs(repo: string): string[] {
  return sh(repo, ['for-each-ref', '--format=%(refname)', 'refs/entropo/']).split('\n').filter(Boolean);
}
