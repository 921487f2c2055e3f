import { chmodSync, mkdirSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { releaseSnapshot, snapshot } from '../../../src/core/worktree/snapshot.js';
import { cleanup, commitFiles, entropoRefs, makeRepo, sh, stateDigest, tempDir, workingFiles, write } from './repo.js';

afterAll(cleanup);

const SPACED = 'docs/release notes.md';
const UNICODE = 'données/élève 日本.txt';

/** A repository with every kind of change: staged, unstaged, untracked, ignored, deleted, chmod, odd names. */
function busyRepo(): string {
  const root = makeRepo({
    '.gitignore': 'build/\n*.log\n',
    'src/app.py': 'def main():\n    return 1\n',
    'src/util.py': 'X = 1\n',
    'run.sh': '#!/bin/sh\necho hi\n',
    'gone.txt': 'delete me\n',
    [SPACED]: 'v1\n',
    [UNICODE]: 'bonjour\n',
  });
  write(root, { 'src/util.py': 'X = 2\n' });
  sh(root, ['add', 'src/util.py']); // staged
  write(root, { 'src/util.py': 'X = 3\n' }); // and then changed again, unstaged
  write(root, { 'src/app.py': 'def main():\n    return 2\n' }); // unstaged
  write(root, { 'staged_new.py': 'new = True\n' });
  sh(root, ['add', 'staged_new.py']);
  write(root, { 'untracked dir/nouveau fichier.txt': 'untracked\n', [SPACED]: 'v2\n', [UNICODE]: 'salut\n' });
  write(root, { 'build/out.bin': 'ignored', 'debug.log': 'ignored' });
  rmSync(join(root, 'gone.txt'));
  chmodSync(join(root, 'run.sh'), 0o755);
  return root;
}

const ignored = (path: string): boolean => path.startsWith('build') || path.endsWith('.log');

describe('snapshot', () => {
  it('captures staged, unstaged and untracked changes, deletions and chmod without touching the user state', async () => {
    const root = busyRepo();
    const head = sh(root, ['rev-parse', 'HEAD']).trim();
    const before = stateDigest(root);

    const snap = await snapshot(root);

    expect(snap.baseHead).toBe(head);
    expect(snap.root).toBe(root);
    expect(sh(root, ['rev-parse', `${snap.commit}^`]).trim()).toBe(head);
    const files = commitFiles(root, snap.commit);
    expect(files).toEqual(workingFiles(root, ignored));
    expect(files.has('gone.txt')).toBe(false);
    expect(files.get('run.sh')?.mode).toBe('100755');
    expect([...files.keys()]).toEqual(expect.arrayContaining([SPACED, UNICODE, 'untracked dir/nouveau fichier.txt']));
    expect(files.size).toBe(8);
    expect(sh(root, ['branch', '--all', '--contains', snap.commit]).trim()).toBe('');
    expect(entropoRefs(root)).toEqual([snap.ref]);
    expect(sh(root, ['rev-parse', snap.ref]).trim()).toBe(snap.commit);
    // The working tree and the index still show the same three kinds of change as before.
    expect(sh(root, ['diff', '--cached', '--name-only']).trim().split('\n')).toEqual(['src/util.py', 'staged_new.py']);

    await releaseSnapshot(snap);
    expect(entropoRefs(root)).toEqual([]);
    expect(stateDigest(root)).toEqual(before);
  });

  it('sees a file rewritten at the same size within the index\'s own time tick (racily clean), as git status does', async () => {
    const root = makeRepo({ 'a.txt': 'v1\n' });
    // Without ctime, git tells such a rewrite only by the index's own time; set every time to one second.
    sh(root, ['config', 'core.trustctime', 'false']);
    const tick = new Date('2026-01-01T00:00:00Z');
    utimesSync(join(root, 'a.txt'), tick, tick);
    sh(root, ['update-index', '--refresh']);
    utimesSync(join(root, '.git', 'index'), tick, tick);
    write(root, { 'a.txt': 'v2\n' });
    utimesSync(join(root, 'a.txt'), tick, tick);
    expect(sh(root, ['--no-optional-locks', 'status', '--porcelain'])).toBe(' M a.txt\n'); // status without rewriting the index
    const snap = await snapshot(root);
    expect(sh(root, ['show', `${snap.commit}:a.txt`])).toBe('v2\n');
    await releaseSnapshot(snap);
  });

  it('leaves out installed dependencies nobody told git to ignore, but keeps every file of one the repository tracks', async () => {
    const root = makeRepo({ 'app.py': 'x = 1\n' });
    write(root, {
      '.venv/pyvenv.cfg': 'home = /usr/bin\n', '.venv/lib/site.py': 'installed\n', 'node_modules/pad/index.js': 'installed\n',
      'packages/a/node_modules/b/index.js': 'installed\n', 'venv/notes.txt': 'a folder named venv that is no environment\n', 'app.py': 'x = 2\n',
    });
    const snap = await snapshot(root);
    try {
      expect(sh(root, ['ls-tree', '-r', '--name-only', snap.commit]).trim().split('\n').sort()).toEqual(['app.py', 'venv/notes.txt']);
    } finally {
      await releaseSnapshot(snap);
    }
    // One that git ignores is left out as ever.
    write(root, { '.gitignore': '.venv/\n' });
    const ignored = await snapshot(root);
    try {
      expect(sh(root, ['ls-tree', '-r', '--name-only', ignored.commit]).trim().split('\n').sort()).toEqual(['.gitignore', 'app.py', 'venv/notes.txt']);
    } finally {
      await releaseSnapshot(ignored);
    }
    // Vendored packages, committed: their changes are part of the snapshot.
    const vendored = makeRepo({ 'app.js': 'x\n', 'node_modules/pad/index.js': 'v1\n' });
    write(vendored, { 'node_modules/pad/index.js': 'v2\n', 'node_modules/new/index.js': 'new\n' });
    const kept = await snapshot(vendored);
    try {
      expect(sh(vendored, ['show', `${kept.commit}:node_modules/pad/index.js`])).toBe('v2\n');
      expect(sh(vendored, ['ls-tree', '-r', '--name-only', kept.commit])).toContain('node_modules/new/index.js');
    } finally {
      await releaseSnapshot(kept);
    }
  });

  it('works in a repository without commits', async () => {
    const root = makeRepo(null);
    write(root, { 'a.txt': 'staged\n', 'b/c d.txt': 'untracked\n' });
    sh(root, ['add', 'a.txt']);
    const before = stateDigest(root);

    const snap = await snapshot(root);

    expect(snap.baseHead).toBeNull();
    expect(sh(root, ['rev-list', '--parents', '-n', '1', snap.commit]).trim()).toBe(snap.commit);
    expect(commitFiles(root, snap.commit)).toEqual(workingFiles(root));
    expect(commitFiles(root, snap.commit).size).toBe(2);
    await releaseSnapshot(snap);
    expect(stateDigest(root)).toEqual(before);
  });

  it('works on a detached HEAD and from a subdirectory', async () => {
    const root = makeRepo({ 'a.txt': 'one\n', 'sub/b.txt': 'b\n' });
    write(root, { 'a.txt': 'two\n' });
    sh(root, ['commit', '-q', '-am', 'second']);
    const first = sh(root, ['rev-parse', 'HEAD~1']).trim();
    sh(root, ['checkout', '-q', '--detach', first]);
    write(root, { 'sub/b.txt': 'changed\n' });

    const snap = await snapshot(join(root, 'sub'));

    expect(snap.root).toBe(root);
    expect(snap.baseHead).toBe(first);
    expect(commitFiles(root, snap.commit)).toEqual(workingFiles(root));
    expect(sh(root, ['rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe('HEAD');
    await releaseSnapshot(snap);
  });

  it('records submodules and nested repositories as gitlinks without recursing', async () => {
    const upstream = makeRepo({ 'lib.txt': 'lib v1\n' });
    const root = makeRepo({ 'main.txt': 'main\n' });
    sh(root, ['submodule', 'add', '-q', upstream, 'vendor/lib']);
    sh(root, ['commit', '-q', '-m', 'add submodule']);
    const sub = join(root, 'vendor/lib');
    write(sub, { 'lib.txt': 'lib v2\n' });
    sh(sub, ['commit', '-q', '-am', 'move the submodule']);
    write(sub, { 'dirty.txt': 'uncommitted inside the submodule\n' });
    const subHead = sh(sub, ['rev-parse', 'HEAD']).trim();
    const nested = join(root, 'nested');
    mkdirSync(nested);
    sh(nested, ['init', '-q', '-b', 'main']);
    write(nested, { 'n.txt': 'n\n' });
    sh(nested, ['add', '-A']);
    sh(nested, ['commit', '-q', '-m', 'nested']);
    const nestedHead = sh(nested, ['rev-parse', 'HEAD']).trim();
    const before = stateDigest(root);

    const snap = await snapshot(root);

    const files = commitFiles(root, snap.commit);
    expect(files.get('vendor/lib')).toEqual({ mode: '160000', content: subHead });
    expect(files.get('nested')).toEqual({ mode: '160000', content: nestedHead });
    expect([...files.keys()].sort()).toEqual(['.gitmodules', 'main.txt', 'nested', 'vendor/lib']);
    await releaseSnapshot(snap);
    expect(stateDigest(root)).toEqual(before);
  });

  it('explains what to do in a folder that is not a repository', async () => {
    const plain = tempDir('entropo-plain-');
    const error = await snapshot(plain).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.NotAGitRepository);
    expect((error as AgentError).message).toContain('git init');
    expect((error as AgentError).message).toContain("Open the repository's folder");

    const missing = await snapshot(join(plain, 'nope')).catch((e: unknown) => e);
    expect((missing as AgentError).reason).toBe(ErrorReason.FileNotFound);
  });

  it('stops before doing anything when the signal has fired', async () => {
    const root = makeRepo({ 'a.txt': 'a\n' });
    const controller = new AbortController();
    controller.abort();
    const error = await snapshot(root, { signal: controller.signal }).catch((e: unknown) => e);
    expect((error as AgentError).reason).toBe(ErrorReason.Cancelled);
    expect(entropoRefs(root)).toEqual([]);
  });
});
