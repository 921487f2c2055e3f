import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/core/errors.js';
import { snapshot } from '../../../src/core/worktree/snapshot.js';
import { changedSinceSnapshot, takenBack } from '../../../src/core/worktree/candidateTree.js';
import { planSwitch, planSwitchOrGitApply, switchWithGitApply, unexpectedFiles, writeSwitch } from '../../../src/core/worktree/treeSwitch.js';
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

  it('works with files git converts: line endings and a filter driver, compared and written in their working form', async () => {
    const repo = tempDir();
    cleanups.push(repo.cleanup);
    const file = (name: string) => path.join(repo.dir, name);
    git(repo.dir, 'init', '-q', '-b', 'main');
    git(repo.dir, 'config', 'filter.upper.smudge', 'tr a-z A-Z');
    git(repo.dir, 'config', 'filter.upper.clean', 'tr A-Z a-z');
    writeFileSync(file('.gitattributes'), '*.txt text eol=crlf\n*.up filter=upper\n');
    writeFileSync(file('win.txt'), 'one\r\ntwo\r\n');
    writeFileSync(file('loud.up'), 'HELLO\n');
    git(repo.dir, 'add', '-A');
    git(repo.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base');
    // Stored as LF and lower case; the working files are CRLF and upper case, as a checkout writes them.
    expect([git(repo.dir, 'show', 'HEAD:win.txt'), git(repo.dir, 'show', 'HEAD:loud.up')]).toEqual(['one\ntwo\n', 'hello\n']);
    const snap = await snapshot(repo.dir);
    // The candidate, as a rollout's patch holds it: in git's stored form.
    writeFileSync(file('win.txt'), 'one\r\nTWO\r\n');
    writeFileSync(file('loud.up'), 'BYE\n');
    git(repo.dir, 'add', '-A');
    const patch = git(repo.dir, 'diff', '--cached', '--no-color');
    git(repo.dir, 'reset', '-q', '--hard');
    expect(patch).toContain('-hello\n+bye\n');
    const plan = await planSwitch(repo.dir, snap.commit, { add: patch });
    expect(await unexpectedFiles(repo.dir, plan)).toEqual([]);
    await writeSwitch(repo.dir, plan);
    expect([readFileSync(file('win.txt'), 'utf8'), readFileSync(file('loud.up'), 'utf8')]).toEqual(['one\r\nTWO\r\n', 'BYE\n']);
    // Git sees exactly the candidate's change, nothing of line endings or case.
    expect(git(repo.dir, 'diff', '--no-color', '--src-prefix=a/', '--dst-prefix=b/').split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-hello', '+bye', '-two', '+TWO']);
    // And back: Undo Apply finds the candidate where it put it.
    await writeSwitch(repo.dir, await planSwitch(repo.dir, snap.commit, { remove: patch }));
    expect(git(repo.dir, 'status', '--porcelain')).toBe('');
    expect((await changedSinceSnapshot(repo.dir, snap.commit, ['win.txt', 'loud.up']))).toEqual([]);
  });

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

  it('blames a refused Replace on what last wrote each file: the applied candidate for its own files, the snapshot for the others', async () => {
    const { root, snap, file, one, two } = await setup(cleanups);
    await writeSwitch(root, await planSwitch(root, snap.commit, { add: one }));
    // b.py is the new candidate's alone: the user's edit there is no change of r0's.
    writeFileSync(file('b.py'), 'y = 2  # mine\n');
    const plan = await planSwitch(root, snap.commit, { remove: one, add: two });
    await expect(writeSwitch(root, plan, 'r0')).rejects.toThrow(/^Not applied: b\.py changed since the candidates were made\./);
    writeFileSync(file('a.py'), 'x = 10  # mine\n');
    const both = await writeSwitch(root, plan, 'r0').then(() => '', (e: Error) => e.message);
    expect(both).toMatch(/^r0's change was not taken out: a\.py changed since it was applied, .* b\.py also changed since the candidates were made\.$/);
    expect([readFileSync(file('a.py'), 'utf8'), readFileSync(file('b.py'), 'utf8'), existsSync(file('c.py'))]).toEqual(['x = 10  # mine\n', 'y = 2  # mine\n', false]);
  });

  it('leaves binary files and mode changes to git apply, and says so', async () => {
    const { root, snap } = await setup(cleanups);
    const mode = 'diff --git a/a.py b/a.py\nold mode 100644\nnew mode 100755\n';
    await expect(planSwitch(root, snap.commit, { add: mode })).rejects.toThrow(AgentError);
    await expect(planSwitch(root, snap.commit, { add: mode })).rejects.toThrow(/binary file, a file mode or a symbolic link \(a\.py\)/);
  });

  it('takes a candidate with a binary file out with git, refuses where the user changed it, and puts it back when the Replace that follows fails', async () => {
    const { root, snap, file, two } = await setup(cleanups);
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10]);
    writeFileSync(file('logo.png'), bytes);
    writeFileSync(file('a.py'), 'x = 10\n');
    git(root, 'add', '-A');
    const binary = git(root, 'diff', '--cached', '--binary', '--no-color');
    git(root, 'reset', '-q', '--hard');
    const atSnapshot = async () => expect(await changedSinceSnapshot(root, snap.commit, ['a.py', 'b.py', 'c.py', 'logo.png'])).toEqual([]);
    expect(await planSwitchOrGitApply(root, snap.commit, { add: binary })).toBeUndefined();
    expect(await planSwitchOrGitApply(root, snap.commit, { remove: binary, add: two })).toBeUndefined();
    // Apply, then Reject (take out): the tree is the snapshot again.
    await switchWithGitApply(root, snap.commit, { add: binary }, undefined);
    expect(readFileSync(file('logo.png')).equals(bytes)).toBe(true);
    await switchWithGitApply(root, snap.commit, { remove: binary }, 'r0');
    await atSnapshot();
    // Apply, then Replace with a text candidate.
    await switchWithGitApply(root, snap.commit, { add: binary }, undefined);
    await switchWithGitApply(root, snap.commit, { remove: binary, add: two }, 'r0');
    expect([existsSync(file('logo.png')), readFileSync(file('a.py'), 'utf8'), readFileSync(file('b.py'), 'utf8')]).toEqual([false, 'x = 1\n', 'y = 20\n']);
    await writeSwitch(root, await planSwitch(root, snap.commit, { remove: two }));
    await atSnapshot();
    // The user changed the binary file: not taken out, and their bytes stay.
    await switchWithGitApply(root, snap.commit, { add: binary }, undefined);
    writeFileSync(file('logo.png'), Buffer.from('mine'));
    await expect(switchWithGitApply(root, snap.commit, { remove: binary }, 'r0')).rejects.toThrow(/^r0's change was not taken out: logo\.png changed since it was applied/);
    expect(readFileSync(file('logo.png'), 'utf8')).toBe('mine');
    expect(readFileSync(file('a.py'), 'utf8')).toBe('x = 10\n');
    // A Replace whose second half is refused (b.py changed) puts the first candidate back.
    writeFileSync(file('logo.png'), bytes);
    writeFileSync(file('b.py'), 'y = 2  # mine\n');
    await expect(switchWithGitApply(root, snap.commit, { remove: binary, add: two }, 'r0')).rejects.toThrow(/^Not applied: b\.py changed since the candidates were made/);
    expect([readFileSync(file('logo.png')).equals(bytes), readFileSync(file('a.py'), 'utf8'), readFileSync(file('b.py'), 'utf8'), existsSync(file('c.py'))]).toEqual([true, 'x = 10\n', 'y = 2  # mine\n', false]);
  });

  it('counts a candidate as taken back once the files it changed are the snapshot\'s, though a file it added is left (git stash)', async () => {
    const { root, snap, file, one, two } = await setup(cleanups);
    await writeSwitch(root, await planSwitch(root, snap.commit, { add: two }));
    expect(await takenBack(root, snap.commit, two)).toBe(false);
    git(root, 'stash', '-q');
    expect(existsSync(file('c.py'))).toBe(true);
    expect(await takenBack(root, snap.commit, two)).toBe(true);
    git(root, 'stash', 'pop', '-q');
    writeFileSync(file('b.py'), 'y = 2\n# mine\n');
    expect(await takenBack(root, snap.commit, two)).toBe(false);
    writeFileSync(file('b.py'), 'y = 2\n');
    expect(await takenBack(root, snap.commit, one)).toBe(true);
  });
});
