import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The repository root of this project, for locating bundled examples. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The bundled example. */
export const EXAMPLE_DIR = path.join(PROJECT_ROOT, 'examples', 'pagination');

/** Runs git in `cwd` with a fixed identity, returning stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  });
}

/** A temporary directory removed by the returned `cleanup`. */
export function tempDir(prefix = 'entropo-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh git repository holding a copy of the example repository, committed once. */
export function exampleRepo(): { dir: string; cleanup: () => void } {
  const temp = tempDir('entropo-example-');
  cpSync(path.join(EXAMPLE_DIR, 'repo'), temp.dir, { recursive: true });
  git(temp.dir, 'init', '-q', '-b', 'main');
  git(temp.dir, 'add', '-A');
  git(temp.dir, 'commit', '-q', '-m', 'initial');
  return temp;
}
