import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/core/errors.js';
import { snapshot } from '../../../src/core/worktree/snapshot.js';
import { planSwitch, unexpectedFiles, writeSwitch } from '../../../src/core/worktree/treeSwitch.js';
import { git, tempDir } from '../../helpers/tempRepo.js';

/** A repository with two files, its snapshot, and two candidates' patches made against it. */
async function setup(cleanups: (() => void)[]) {
  const repo = tempDir();
  cleanups.push(repo.cleanup);
  const file = (name: string) => path.join(repo.dir, name);
  git(repo.dir, 'init', '-q', '-b', 'main');
  writeFileSync(file('a.py'), 'x = 1\n');
  writeFileSync(file('b.py'), 'y = 2\n');
  git(repo.dir, 'add', '-A');
  git(repo.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base');
  const snap = await snapshot(repo.dir);
  const diff = (change: () => void) => {
    change();
    git(repo.dir, 'add', '-A');
    const patch = git(repo.dir, 'diff', '--cached', '--no-color');
    git(repo.dir, 'reset', '-q', '--hard');
    return patch;
  };
  const one = diff(() => writeFileSync(file('a.py'), 'x = 10\n'));
  const two = diff(() => { writeFileSync(file('b.py'), 'y = 20\n'); writeFileSync(file('c.py'), 'z = 3\n'); });
  return { root: repo.dir, snap, file, one, two };
}

describe('switching the working tree between candidates', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('applies, replaces (the first one\'s files back to the snapshot) and takes out again', async () => {
    const { root, snap, file, one, two } = await setup(cleanups);
    await writeSwitch(root, await planSwitch(root, snap.commit, { add: one }));
    expect(readFileSync(file('a.py'), 'utf8')).toBe('x = 10\n');
    const replace = await planSwitch(root, snap.commit, { remove: one, add: two });
    expect(replace.map((f) => [f.path, f.expected, f.next]).sort()).toEqual([
      ['a.py', 'x = 10\n', 'x = 1\n'], ['b.py', 'y = 2\n', 'y = 20\n'], ['c.py', undefined, 'z = 3\n']]);
    await writeSwitch(root, replace);
    expect([readFileSync(file('a.py'), 'utf8'), readFileSync(file('b.py'), 'utf8'), readFileSync(file('c.py'), 'utf8')]).toEqual(['x = 1\n', 'y = 20\n', 'z = 3\n']);
    await writeSwitch(root, await planSwitch(root, snap.commit, { remove: two }));
    expect(existsSync(file('c.py'))).toBe(false);
    expect(git(root, 'status', '--porcelain')).toBe('');
  });

  it('refuses, writing nothing, when the user changed a file the switch touches', async () => {
    const { root, snap, file, one, two } = await setup(cleanups);
    await writeSwitch(root, await planSwitch(root, snap.commit, { add: one }));
    writeFileSync(file('a.py'), 'x = 10  # mine\n');
    const plan = await planSwitch(root, snap.commit, { remove: one, add: two });
    expect(await unexpectedFiles(root, plan)).toEqual(['a.py']);
    await expect(writeSwitch(root, plan)).rejects.toThrow(/Not applied: a\.py changed since the candidates were made/);
    expect(readFileSync(file('b.py'), 'utf8')).toBe('y = 2\n');
    expect(readFileSync(file('a.py'), 'utf8')).toBe('x = 10  # mine\n');
  });

  it('leaves binary files and mode changes to git apply, and says so', async () => {
    const { root, snap } = await setup(cleanups);
    const mode = 'diff --git a/a.py b/a.py\nold mode 100644\nnew mode 100755\n';
    await expect(planSwitch(root, snap.commit, { add: mode })).rejects.toThrow(AgentError);
    await expect(planSwitch(root, snap.commit, { add: mode })).rejects.toThrow(/binary file, a file mode or a symbolic link \(a\.py\)/);
  });
});
