import { execFileSync } from 'node:child_process';
/** Test helpers: small real repositories with tests, and patches against them. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { git, tempDir } from '../../../helpers/tempRepo.js';

/** Writes files (creating folders) under `root`. */
export function write(root: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
}

/** A temporary git repository holding `files`, committed once; `cleanup` removes it. */
export function fixtureRepo(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const temp = tempDir('entropo-tests-');
  write(temp.dir, files);
  git(temp.dir, 'init', '-q', '-b', 'main');
  git(temp.dir, 'add', '-A');
  git(temp.dir, 'commit', '-q', '-m', 'initial');
  return temp;
}

/** The patch that turns the committed state of `repo` into one with `edits` applied; the repository is left as it was. */
export function patchOf(repo: string, edits: Record<string, string>): string {
  write(repo, edits);
  git(repo, 'add', '-A');
  const patch = git(repo, 'diff', '--cached', '--no-color', '--src-prefix=a/', '--dst-prefix=b/');
  git(repo, 'reset', '-q', '--hard');
  git(repo, 'clean', '-q', '-fd');
  return patch;
}

/** Whether `python3 -m pytest` runs on this machine; tests that need it skip with that reason otherwise. */
export const pytestWorks = (() => {
  try {
    execFileSync('python3', ['-m', 'pytest', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
