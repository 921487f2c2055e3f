import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { releaseSnapshot, snapshot } from '../../../src/core/worktree/snapshot.js';
import {
  batchPath,
  createWorktrees,
  defaultBaseDir,
  pruneStale,
  removeWorktrees,
} from '../../../src/core/worktree/worktrees.js';
import {
  cleanup,
  commitFiles,
  entropoRefs,
  makeRepo,
  sh,
  stateDigest,
  tempDir,
  workingFiles,
  worktreeList,
  write,
} from './repo.js';

afterAll(cleanup);

/** A repository with a branch, a stash entry and uncommitted changes of each kind. */
function userRepo(): string {
  const root = makeRepo({ 'src/a.py': 'a = 1\n', 'src/b.py': 'b = 1\n', 'README.md': '# r\n', 'old.txt': 'old\n' });
  sh(root, ['branch', 'feature']);
  write(root, { 'src/a.py': 'a = "stashed"\n' });
  sh(root, ['stash', 'push', '-q', '-m', 'user stash']);
  write(root, { 'src/a.py': 'a = 2\n', 'new file.py': 'n = 1\n' });
  sh(root, ['add', 'src/a.py']);
  write(root, { 'src/b.py': 'b = 2\n' });
  sh(root, ['rm', '-q', 'old.txt']);
  return root;
}

describe('createWorktrees and removeWorktrees', () => {
  it('creates N worktrees of the snapshot and removes them leaving the user repository byte-identical', async () => {
    const root = userRepo();
    const before = stateDigest(root);
    const stashBefore = sh(root, ['stash', 'list']);
    const baseDir = tempDir('entropo-base-');

    const snap = await snapshot(root);
    const progress: number[] = [];
    const batch = await createWorktrees(snap, 4, { baseDir, onProgress: (p) => progress.push(p.done) });

    expect(batch.paths).toEqual([0, 1, 2, 3].map((k) => join(batchPath(root, batch.id, baseDir), `r${k}`)));
    expect(progress).toEqual([1, 2, 3, 4]);
    const expected = commitFiles(root, snap.commit);
    expect(expected.size).toBe(4);
    for (const path of batch.paths) {
      expect(sh(path, ['rev-parse', 'HEAD']).trim()).toBe(snap.commit);
      expect(sh(path, ['status', '--porcelain']).trim()).toBe('');
      expect(workingFiles(path)).toEqual(expected);
    }
    expect(workingFiles(batch.paths[0])).toEqual(workingFiles(root));
    expect(worktreeList(root)).toHaveLength(5);
    const marker = JSON.parse(readFileSync(join(batch.dir, 'owner.json'), 'utf8'));
    expect(marker).toMatchObject({ pid: process.pid, repoRoot: root, snapshotRef: snap.ref, commit: snap.commit });

    await removeWorktrees(batch);

    expect(existsSync(batch.dir)).toBe(false);
    expect(worktreeList(root)).toEqual([root]);
    expect(entropoRefs(root)).toEqual([]);
    expect(existsSync(join(root, '.git/worktrees'))).toBe(false);
    expect(sh(root, ['stash', 'list'])).toBe(stashBefore);
    expect(sh(root, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim().split('\n')).toEqual([
      'refs/heads/feature',
      'refs/heads/main',
    ]);
    expect(stateDigest(root)).toEqual(before);
  });

  it('defaults to a folder under the system temp directory, outside the user tree', async () => {
    const root = makeRepo({ 'x.txt': 'x\n' });
    const snap = await snapshot(root);
    const batch = await createWorktrees(snap, 1);
    try {
      expect(batch.dir.startsWith(defaultBaseDir())).toBe(true);
      expect(batch.dir.startsWith(root)).toBe(false);
      expect(readFileSync(join(batch.paths[0], 'x.txt'), 'utf8')).toBe('x\n');
    } finally {
      await removeWorktrees(batch);
    }
    expect(existsSync(batch.dir)).toBe(false);
    expect(existsSync(dirname(batch.dir))).toBe(false);
    expect(worktreeList(root)).toEqual([root]);
  });

  it('removes the worktrees already created when one of them fails, then rethrows', async () => {
    const root = makeRepo({ 'x.txt': 'x\n' });
    const baseDir = tempDir('entropo-base-');
    const snap = await snapshot(root);
    // A non-empty folder where worktree r2 must go makes `git worktree add` fail for that one only.
    write(batchPath(root, 'clash', baseDir), { 'r2/occupied.txt': 'in the way\n' });

    const error = await createWorktrees(snap, 4, { baseDir, batchId: 'clash' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.GitFailed);
    expect((error as AgentError).message).toMatch(/worktree add.*r2.*already exists/);
    expect(existsSync(batchPath(root, 'clash', baseDir))).toBe(false);
    expect(worktreeList(root)).toEqual([root]);
    // The snapshot belongs to the caller, who may retry with it.
    expect(entropoRefs(root)).toEqual([snap.ref]);
    await releaseSnapshot(snap);
  });

  it('creates nothing when cancelled and rejects a non-positive count', async () => {
    const root = makeRepo({ 'x.txt': 'x\n' });
    const baseDir = tempDir('entropo-base-');
    const snap = await snapshot(root);
    const controller = new AbortController();
    controller.abort();
    const cancelled = await createWorktrees(snap, 3, { baseDir, signal: controller.signal }).catch((e: unknown) => e);
    expect((cancelled as AgentError).reason).toBe(ErrorReason.Cancelled);
    const invalid = await createWorktrees(snap, 0, { baseDir }).catch((e: unknown) => e);
    expect((invalid as AgentError).reason).toBe(ErrorReason.InvalidArgument);
    expect(worktreeList(root)).toEqual([root]);
    await releaseSnapshot(snap);
  });
});

interface OwnerReport {
  pid: number;
  dir: string;
  paths: string[];
  ref: string;
}

/** Starts a separate process that makes a batch of 2 worktrees and waits; resolves once the batch exists. */
function startOwner(repo: string, baseDir: string): Promise<{ child: ChildProcess; report: OwnerReport }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/owner.ts'), repo, baseDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve({ child, report: JSON.parse(out) as OwnerReport });
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`owner exited with ${code}: ${err}`)));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('pruneStale', () => {
  it('prunes the batch and ref of a killed owner and keeps those of live owners', async () => {
    const root = makeRepo({ 'x.txt': 'x\n' });
    const baseDir = tempDir('entropo-base-');
    const mine = await createWorktrees(await snapshot(root), 1, { baseDir });
    const { child, report } = await startOwner(root, baseDir);
    try {
      expect(report.pid).toBe(child.pid);
      expect(worktreeList(root)).toHaveLength(4);

      const whileAlive = await pruneStale(root, { baseDir });
      expect(whileAlive).toEqual({ batches: [], checkouts: [], records: [], refs: [] });
      expect(report.paths.every((path) => existsSync(join(path, 'x.txt')))).toBe(true);
      expect(entropoRefs(root).sort()).toEqual([mine.snapshot.ref, report.ref].sort());

      await killHard(child);
      const afterCrash = await pruneStale(root, { baseDir });

      expect(afterCrash).toEqual({ batches: [report.dir], checkouts: [], records: [], refs: [report.ref] });
      expect(existsSync(report.dir)).toBe(false);
      expect(worktreeList(root)).toEqual([root, mine.paths[0]]);
      expect(entropoRefs(root)).toEqual([mine.snapshot.ref]);
      expect(existsSync(join(mine.paths[0], 'x.txt'))).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) await killHard(child);
      await removeWorktrees(mine);
    }
    expect(worktreeList(root)).toEqual([root]);
    expect(entropoRefs(root)).toEqual([]);
  });

  it('prunes a marker-less batch folder only once it is old', async () => {
    const root = makeRepo({ 'x.txt': 'x\n' });
    const baseDir = tempDir('entropo-base-');
    const fresh = batchPath(root, 'fresh', baseDir);
    const old = batchPath(root, 'old', baseDir);
    mkdirSync(join(fresh, 'r0'), { recursive: true });
    mkdirSync(join(old, 'r0'), { recursive: true });
    writeFileSync(join(old, 'r0', 'junk.txt'), 'left by a crash before the marker was written');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old, hourAgo, hourAgo);

    const report = await pruneStale(root, { baseDir });

    expect(report).toEqual({ batches: [old], checkouts: [], records: [], refs: [] });
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });

  it("drops git's records of worktrees whose folders vanished, leaving the user's own worktrees alone", async () => {
    const root = makeRepo({ 'x.txt': 'x\n' });
    const baseDir = tempDir('entropo-base-');
    const own = join(tempDir('entropo-own-'), 'user worktree');
    sh(root, ['worktree', 'add', '-q', '--detach', own, 'HEAD']);
    const batch = await createWorktrees(await snapshot(root), 2, { baseDir });
    rmSync(batch.dir, { recursive: true, force: true }); // what a reboot does to a temp folder

    const report = await pruneStale(root, { baseDir });

    expect(report).toEqual({ batches: [], checkouts: [], records: batch.paths, refs: [] });
    expect(worktreeList(root)).toEqual([root, own]);
    rmSync(own, { recursive: true, force: true }); // the user's worktree on an unmounted disk
    await removeWorktrees(batch);
    expect(worktreeList(root)).toEqual([root, own]);
    expect(entropoRefs(root)).toEqual([]);
  });
});
