import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { applyToWorkingTree, patchedTree, readBlob } from '../../../src/core/worktree/candidateTree.js';
import { releaseSnapshot, snapshot } from '../../../src/core/worktree/snapshot.js';
import { exampleRepo, git } from '../../helpers/tempRepo.js';

/** The ceil fix as git writes it, made in the repository and undone again. */
function fixPatch(dir: string): string {
  const file = path.join(dir, 'pager/core.py');
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, original.replace('return total // per_page', 'return (total + per_page - 1) // per_page'));
  const patch = git(dir, 'diff');
  writeFileSync(file, original);
  return patch;
}

describe('candidate trees', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  async function setup() {
    const repo = exampleRepo();
    cleanups.push(repo.cleanup);
    const snap = await snapshot(repo.dir);
    cleanups.push(() => releaseSnapshot(snap));
    return { dir: repo.dir, snap, FIX: fixPatch(repo.dir) };
  }

  it('computes a patched tree without touching the disk, and reads blobs from it', async () => {
    const { dir, snap, FIX } = await setup();
    const before = readFileSync(path.join(dir, 'pager/core.py'), 'utf8');
    const tree = await patchedTree(dir, snap.commit, FIX);
    expect(await readBlob(dir, tree, 'pager/core.py')).toContain('return (total + per_page - 1) // per_page');
    expect(await readBlob(dir, snap.commit, 'pager/core.py')).toBe(before);
    expect(await readBlob(dir, tree, 'missing.py')).toBeUndefined();
    expect(readFileSync(path.join(dir, 'pager/core.py'), 'utf8')).toBe(before);
    const error = await patchedTree(dir, snap.commit, FIX.replace('return total // per_page', 'return nothing')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.PatchDoesNotApply);
  });

  it('applies to the working tree as an unstaged change', async () => {
    const { dir, snap, FIX } = await setup();
    expect(await applyToWorkingTree(dir, snap.commit, FIX)).toEqual(['pager/core.py']);
    expect(git(dir, 'status', '--porcelain')).toBe(' M pager/core.py\n');
  });

  it('refuses, naming the files, when they changed since the snapshot', async () => {
    const { dir, snap, FIX } = await setup();
    writeFileSync(path.join(dir, 'pager/core.py'), `${readFileSync(path.join(dir, 'pager/core.py'), 'utf8')}\n# edited meanwhile\n`);
    const error = (await applyToWorkingTree(dir, snap.commit, FIX).catch((e: unknown) => e)) as AgentError;
    expect(error.message).toBe('Not applied: pager/core.py changed since the candidates were made. Commit or stash those changes, or run again.');
    expect(readFileSync(path.join(dir, 'pager/core.py'), 'utf8')).toContain('# edited meanwhile');
    expect(readFileSync(path.join(dir, 'pager/core.py'), 'utf8')).toContain('return total // per_page');
  });
});
