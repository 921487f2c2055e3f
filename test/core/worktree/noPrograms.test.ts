/**
 * Our git calls run no hook and no file-system monitor: a relative core.hooksPath (husky's `.husky/_`) or
 * core.fsmonitor resolves inside the work tree, where the agent's commands write, and git would run what
 * they put there outside the sandbox.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractPatch } from '../../../src/core/worktree/patch.js';
import { snapshot } from '../../../src/core/worktree/snapshot.js';
import { createWorktrees, removeWorktrees } from '../../../src/core/worktree/worktrees.js';
import { cleanup, makeRepo, sh, tempDir, write } from './repo.js';

afterAll(cleanup);

/** Writes an executable script at `path` under `root` that appends its name and arguments to `marker`. */
function plant(root: string, path: string, marker: string): void {
  write(root, { [path]: `#!/bin/sh\necho "$0 $*" >> '${marker}'\n` });
  chmodSync(join(root, path), 0o755);
}

describe('git plumbing on repositories and workspaces', () => {
  it('runs no hook or fsmonitor program that the repository or the agent put in the work tree', async () => {
    const repo = makeRepo({ 'app.py': 'x = 1\n', '.gitignore': '.husky/_/\n' });
    sh(repo, ['config', 'core.hooksPath', '.husky/_']);
    sh(repo, ['config', 'core.fsmonitor', './.fsmonitor-hook']);
    const marker = join(tempDir('entropo-marker-'), 'ran.log');
    // The repository's own hooks (husky writes them on `npm install`), which git itself would run
    for (const hook of ['post-index-change', 'post-checkout', 'reference-transaction']) plant(repo, `.husky/_/${hook}`, marker);
    plant(repo, '.fsmonitor-hook', marker);
    write(repo, { 'app.py': 'x = 2\n' });
    // Git itself runs them: the check that the setup is live
    sh(repo, ['add', 'app.py']);
    sh(repo, ['reset', '-q']);
    expect(readFileSync(marker, 'utf8')).toMatch(/post-index-change/);
    expect(readFileSync(marker, 'utf8')).toMatch(/fsmonitor-hook/);
    const before = sh(repo, ['status', '--porcelain']);
    writeFileSync(marker, '');

    const snap = await snapshot(repo);
    const batch = await createWorktrees(snap, 1, { baseDir: tempDir('entropo-base-') });
    try {
      const workspace = batch.paths[0];
      // What an agent's command can do inside its worktree: hooks at the path the config names
      for (const hook of ['post-index-change', 'pre-commit', 'reference-transaction']) plant(workspace, `.husky/_/${hook}`, marker);
      plant(workspace, '.fsmonitor-hook', marker);
      write(workspace, { 'app.py': 'x = 3\n' });
      const patch = await extractPatch(workspace, snap.commit);
      expect(patch).toContain('+x = 3');
    } finally {
      await removeWorktrees(batch);
    }
    expect(readFileSync(marker, 'utf8')).toBe('');
    expect(sh(repo, ['status', '--porcelain'])).toBe(before);
  });
});
