import { chmodSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { applyPatch, changedFiles, extractPatch, isScratch } from '../../../src/core/worktree/patch.js';
import { snapshot, type Snapshot } from '../../../src/core/worktree/snapshot.js';
import { createWorktrees, removeWorktrees, type WorktreeBatch } from '../../../src/core/worktree/worktrees.js';
import { cleanup, digest, makeRepo, sh, stateDigest, tempDir, workingFiles, write } from './repo.js';

const BIG = Array.from({ length: 40 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n`).join('\n');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3, 0, 255, 254]);
const SCRATCH = [
  'reproduce_issue.py',
  'repro.sh',
  'scratch_notes.md',
  'debug_probe.py',
  'src/tmp_out.txt',
  'a.txt.orig',
  '__pycache__/m.cpython-311.pyc',
  'pkg/__pycache__/moved.cpython-311.pyc',
];
const UNICODE = 'dir with space/ünï cødé.txt';

let repo: string;
let snap: Snapshot;
let batch: WorktreeBatch;

beforeAll(async () => {
  repo = makeRepo({
    'a.txt': 'line 1\nline 2\nline 3\n',
    'old.txt': 'to be deleted\n',
    'big.py': BIG,
    'img.png': PNG,
    'script.sh': '#!/bin/sh\necho run\n',
    [UNICODE]: 'before\n',
    'debug_utils.py': 'LEVEL = 1\n',
  });
  snap = await snapshot(repo);
  batch = await createWorktrees(snap, 4, { baseDir: tempDir('entropo-base-') });
  const agent = batch.paths[0];
  write(agent, { 'a.txt': 'line 1\nline two\nline 3\n', 'src/new_module.py': 'VALUE = 42\n' });
  rmSync(join(agent, 'old.txt'));
  renameSync(join(agent, 'big.py'), join(agent, 'moved.py'));
  write(agent, { 'moved.py': BIG.replace('x + 7', 'x + 700') });
  write(agent, { 'img.png': Buffer.concat([PNG, Buffer.from([9, 9, 0])]), 'new.bin': Buffer.from([0, 1, 2, 0, 3]) });
  chmodSync(join(agent, 'script.sh'), 0o755);
  write(agent, { [UNICODE]: 'after\n', 'debug_utils.py': 'LEVEL = 2\n', 'test_repro_bug.py': 'def test_bug(): pass\n' });
  for (const path of SCRATCH) write(agent, { [path]: 'probe\n' });
  // An agent that commits inside its worktree still has its change counted.
  write(agent, { 'committed.txt': 'committed by the agent\n' });
  sh(agent, ['add', 'committed.txt']);
  sh(agent, ['commit', '-q', '-m', 'agent commit']);
});

afterAll(async () => {
  await removeWorktrees(batch);
  cleanup();
});

const indexDigest = (worktree: string): string =>
  digest(readFileSync(resolve(worktree, sh(worktree, ['rev-parse', '--git-path', 'index']).trim())));

describe('extractPatch', () => {
  it('includes modified, added, deleted, renamed, binary and chmod changes and drops scratch files unless kept', async () => {
    const agent = batch.paths[0];
    const indexBefore = indexDigest(agent);

    const patch = await extractPatch(agent, snap.commit, { keep: ['test_repro_bug.py'] });

    expect(changedFiles(patch).sort()).toEqual(
      [
        UNICODE,
        'a.txt',
        'big.py',
        'committed.txt',
        'debug_utils.py',
        'img.png',
        'moved.py',
        'new.bin',
        'old.txt',
        'script.sh',
        'src/new_module.py',
        'test_repro_bug.py',
      ].sort(),
    );
    expect(patch).toContain('rename from big.py\nrename to moved.py\n');
    expect(patch).toContain('old mode 100644\nnew mode 100755\n');
    expect(patch.match(/GIT binary patch/g)).toHaveLength(2);
    expect(patch).toContain('deleted file mode 100644');
    expect(patch).not.toContain('probe');
    expect(indexDigest(agent)).toBe(indexBefore);
  });

  it('round-trips through applyPatch onto a fresh worktree of the same snapshot', async () => {
    const [agent, target] = batch.paths;
    const patch = await extractPatch(agent, snap.commit, { keep: ['test_repro_bug.py'] });

    await applyPatch(target, patch, { check: true });
    expect(sh(target, ['status', '--porcelain'])).toBe('');

    await applyPatch(target, patch);
    expect(workingFiles(target)).toEqual(workingFiles(agent, (path) => SCRATCH.includes(path)));
    expect(workingFiles(target).get('script.sh')?.mode).toBe('100755');
    expect(workingFiles(target).size).toBe(10);
  });

  it('drops scratch files by custom patterns and never drops changes to files that already existed', async () => {
    const patch = await extractPatch(batch.paths[0], snap.commit, { scratchPatterns: ['*.md', 'src/**'] });
    const files = changedFiles(patch);
    expect(files).toContain('reproduce_issue.py');
    expect(files).toContain('debug_probe.py');
    expect(files).not.toContain('scratch_notes.md');
    expect(files).not.toContain('src/new_module.py');
    expect(files).not.toContain('src/tmp_out.txt');
    expect(files).toContain('debug_utils.py');
  });

  it('returns an empty patch for an untouched worktree', async () => {
    const patch = await extractPatch(batch.paths[2], snap.commit);
    expect(patch).toBe('');
    await applyPatch(batch.paths[2], patch);
    expect(sh(batch.paths[2], ['status', '--porcelain'])).toBe('');
  });
});

describe('applyPatch', () => {
  it('refuses a conflicting patch, names the files, and changes nothing', async () => {
    const patch = await extractPatch(batch.paths[0], snap.commit, { keep: ['test_repro_bug.py'] });
    const target = batch.paths[3];
    write(target, { 'a.txt': 'line 1\nline deux\nline 3\n', 'src/new_module.py': 'VALUE = 0\n' });
    const before = stateDigest(target);

    const error = await applyPatch(target, patch).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.PatchDoesNotApply);
    expect((error as AgentError).message).toContain('a.txt');
    expect((error as AgentError).message).toContain('src/new_module.py');
    expect(stateDigest(target)).toEqual(before);
  });

  it('applies a plain text patch in a folder that is not a repository', async () => {
    const dir = tempDir('entropo-plain-');
    write(dir, { 'f.txt': 'one\ntwo\n' });
    const patch = 'diff --git a/f.txt b/f.txt\n--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n';
    await applyPatch(dir, patch);
    expect(readFileSync(join(dir, 'f.txt'), 'utf8')).toBe('one\n2\n');
  });
});

describe('changedFiles and isScratch', () => {
  it('reads quoted, spaced, renamed, deleted and mode-only sections', () => {
    const patch = [
      'diff --git "a/d\\303\\274r/x y.txt" "b/d\\303\\274r/x y.txt"',
      'index 1111111..2222222 100644',
      '--- "a/d\\303\\274r/x y.txt"',
      '+++ "b/d\\303\\274r/x y.txt"',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'diff --git a/with space.sh b/with space.sh',
      'old mode 100644',
      'new mode 100755',
      'diff --git a/from here.py b/to there.py',
      'similarity index 100%',
      'rename from from here.py',
      'rename to to there.py',
      'diff --git a/gone.txt b/gone.txt',
      'deleted file mode 100644',
      'index 3333333..0000000',
      '--- a/gone.txt',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      '',
    ].join('\n');
    expect(changedFiles(patch)).toEqual(['dür/x y.txt', 'with space.sh', 'from here.py', 'to there.py', 'gone.txt']);
    expect(changedFiles('')).toEqual([]);
  });

  it('matches scratch patterns per path component, with slashes against the whole path', () => {
    const patterns = ['reproduce*', 'tmp_*', '__pycache__', 'docs/**/*.tmp'];
    expect(isScratch('reproduce_issue.py', patterns)).toBe(true);
    expect(isScratch('pkg/tmp_x/y.py', patterns)).toBe(true);
    expect(isScratch('a/__pycache__/b.pyc', patterns)).toBe(true);
    expect(isScratch('docs/a/b/c.tmp', patterns)).toBe(true);
    expect(isScratch('src/reproducer.ts', patterns)).toBe(true);
    expect(isScratch('src/fix.py', patterns)).toBe(false);
    expect(isScratch('notes.tmp', patterns)).toBe(false);
    expect(isScratch('my_tmp_file.py', patterns)).toBe(false);
  });
});
