/** Test helpers for the sandbox: real temp repositories with linked worktrees, a fake home, host processes. */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Whether bwrap runs here, known synchronously so that `describe.skipIf` can use it; the tests then take
 * the full answer from `detectSandbox` (which must agree, see detectSandbox.test.ts).
 */
export const sandbox = quickProbe();
if (!sandbox.available) console.warn(`Sandbox tests skipped: ${sandbox.reason}`);

function quickProbe(): { available: boolean; reason?: string } {
  if (process.platform !== 'linux') return { available: false, reason: `bubblewrap needs Linux, this is ${process.platform}` };
  const result = spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--unshare-net', '--cap-drop', 'ALL', '--', 'true'], { timeout: 15_000 });
  if (result.error) return { available: false, reason: `bwrap cannot be run: ${result.error.message}` };
  if (result.status !== 0) return { available: false, reason: `bwrap fails here: ${String(result.stderr).trim()}` };
  return { available: true };
}

const created: string[] = [];

/** A new temp folder under `parent` (the system temp folder by default), removed by `cleanup`. */
export function tempDir(prefix: string, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, prefix));
  created.push(dir);
  return dir;
}

/** Removes every folder made by `tempDir`. */
export function cleanup(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes files (creating folders) under `root`. */
export function write(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** Runs git with a fixed identity and no user configuration; returns stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

/** A repository with `files` committed (or a copy of `copyFrom`), and a detached linked worktree of it. */
export function repoWithWorktree(files: Record<string, string>, copyFrom?: string): { repo: string; worktree: string } {
  const base = tempDir('entropo-sbx-repo-');
  const repo = join(base, 'repo');
  mkdirSync(repo);
  if (copyFrom) cpSync(copyFrom, repo, { recursive: true });
  write(repo, files);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  const worktree = join(base, 'worktrees', 'r0');
  git(repo, 'worktree', 'add', '-q', '--detach', worktree);
  return { repo, worktree };
}

/**
 * Host processes (counted outside any sandbox) whose command line contains `marker`, or, with `start`, begins
 * with it (bwrap's own command line holds the whole command, so it contains every marker of it).
 */
export function hostProcesses(marker: string, start = false): number {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => (start ? line.startsWith(marker) : line.includes(marker)) && !line.includes('ps -eo')).length;
}
