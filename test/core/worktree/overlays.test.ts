import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { batchPath, writeMarker } from '../../../src/core/worktree/batchMarker.js';
import { chooseIsolation } from '../../../src/core/worktree/isolation.js';
import { probeOverlays } from '../../../src/core/worktree/overlayProbe.js';
import { pruneSharedCheckouts, sharedCheckoutsDir, type CheckoutProgress } from '../../../src/core/worktree/sharedCheckout.js';
import { releaseSnapshot, snapshot } from '../../../src/core/worktree/snapshot.js';
import { createWorkspaces, removeWorkspaces } from '../../../src/core/worktree/workspaces.js';
import { pruneStale } from '../../../src/core/worktree/worktrees.js';
import { eventually, namespaceAlive, namespaceOf, overlaysMissing, processesMentioning } from '../../helpers/overlays.js';
import { cleanup, commitFiles, makeRepo, sh, stateDigest, tempDir, workingFiles, worktreeList, write } from './repo.js';

afterAll(cleanup);

/** Runs `git` inside the workspace's namespace, where its files are. */
function nsGit(ws: { path: string; namespace?: { enter: string[] } }, args: string[]): string {
  const [enter, ...prefix] = ws.namespace!.enter;
  return execFileSync(enter, [...prefix, 'git', ...args], { cwd: ws.path, encoding: 'utf8' });
}

describe('overlay workspaces', () => {
  let missing: string | null = null;
  beforeAll(async () => { missing = await overlaysMissing(); });
  const needs = (context: TestContext) => { if (missing) context.skip(missing); };

  it('shows the snapshot in each workspace, keeps each one\'s writes to itself, and removes them all', async (context) => {
    needs(context);
    const root = makeRepo({ 'src/a.py': 'a = 1\n', 'README.md': '# r\n' });
    write(root, { 'src/a.py': 'a = 2\n', 'untracked.txt': 'u\n' });
    const before = stateDigest(root);
    const baseDir = tempDir('entropo-base-');
    const snap = await snapshot(root);
    const batch = await createWorkspaces(snap, 3, { kind: 'overlay', baseDir });

    expect(batch.kind).toBe('overlay');
    expect(batch.workspaces.map((w) => w.id)).toEqual(['r0', 'r1', 'r2']);
    const expected = commitFiles(root, snap.commit);
    for (const ws of batch.workspaces) {
      expect(ws.path).toBe(`${ws.namespace!.hostRoot}${ws.inside}`);
      expect(ws.inside).toBe(join(batch.dir, ws.id));
      expect(workingFiles(ws.path)).toEqual(expected);
      expect(nsGit(ws, ['status', '--porcelain'])).toBe('');
      // Seen from outside the namespace, the mount point is an empty folder.
      expect(readdirSync(ws.inside)).toEqual([]);
    }
    writeFileSync(join(batch.workspaces[0].path, 'src/a.py'), 'a = 3\n');
    writeFileSync(join(batch.workspaces[1].path, 'new.py'), 'n\n');
    expect(readFileSync(join(batch.workspaces[1].path, 'src/a.py'), 'utf8')).toBe('a = 2\n');
    expect(existsSync(join(batch.workspaces[0].path, 'new.py'))).toBe(false);
    expect(readFileSync(join(batch.workspaces[0].layers!.upper, 'src/a.py'), 'utf8')).toBe('a = 3\n');
    expect(readFileSync(join(batch.workspaces[0].layers!.lower, 'src/a.py'), 'utf8')).toBe('a = 2\n');
    expect(nsGit(batch.workspaces[0], ['status', '--porcelain'])).toBe(' M src/a.py\n');
    const ns = namespaceOf(batch.workspaces[0].path)!;

    await removeWorkspaces(batch);

    expect(existsSync(batch.dir)).toBe(false);
    expect(await eventually(() => !namespaceAlive(ns))).toBe(true);
    expect(processesMentioning(batch.dir)).toEqual([]);
    expect(readdirSync(sharedCheckoutsDir(root, baseDir)).sort()).toEqual(['c0', 'c0.json']);
    expect(worktreeList(root)).toEqual([root]);
    await releaseSnapshot(snap);
    expect(stateDigest(root)).toEqual(before);
  });

  it('converts files as the repository\'s own settings say (a filter driver, line endings, info/attributes), like a worktree', async (context) => {
    needs(context);
    const root = makeRepo(null);
    write(root, { '.gitattributes': '*.dat filter=upper\n*.txt text\n', 'a.dat': 'hello\n', 'b.txt': 'one\ntwo\n', 'c.win': 'three\n' });
    for (const [key, value] of [['filter.upper.smudge', 'tr a-z A-Z'], ['filter.upper.clean', 'tr A-Z a-z'], ['core.eol', 'crlf']]) sh(root, ['config', key, value]);
    write(join(root, '.git', 'info'), { attributes: '*.win text eol=crlf\n' });
    sh(root, ['add', '-A']);
    sh(root, ['commit', '-q', '-m', 'conversions']);
    const snap = await snapshot(root);
    const baseDir = tempDir('entropo-base-');
    const overlay = await createWorkspaces(snap, 1, { kind: 'overlay', baseDir });
    const worktree = await createWorkspaces(snap, 1, { kind: 'worktree', baseDir });
    for (const ws of [overlay.workspaces[0], worktree.workspaces[0]]) {
      expect(readFileSync(join(ws.path, 'a.dat'), 'utf8')).toBe('HELLO\n');
      expect(readFileSync(join(ws.path, 'b.txt'), 'utf8')).toBe('one\r\ntwo\r\n');
      expect(readFileSync(join(ws.path, 'c.win'), 'utf8')).toBe('three\r\n');
    }
    expect(nsGit(overlay.workspaces[0], ['status', '--porcelain'])).toBe('');
    await removeWorkspaces(overlay);
    await removeWorkspaces(worktree);
    // Changed later in the repository, with the same files: the next batch's checkout holds them as now converted.
    sh(root, ['config', 'filter.upper.smudge', 'sed s/^/x/']);
    const updated = await createWorkspaces(snap, 1, { kind: 'overlay', baseDir });
    expect(readFileSync(join(updated.workspaces[0].path, 'a.dat'), 'utf8')).toBe('xhello\n');
    expect(readdirSync(sharedCheckoutsDir(root, baseDir)).sort()).toEqual(['c0', 'c0.json']);
    await removeWorkspaces(updated);
    await releaseSnapshot(snap);
  });

  it('reuses the shared checkout for the same tree, updates it in place for a new one, and makes a second only while the first is in use', async (context) => {
    needs(context);
    const root = makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const baseDir = tempDir('entropo-base-');
    // git shows checkout progress only after two seconds; this repository is done long before.
    process.env.GIT_PROGRESS_DELAY = '0';
    context.onTestFinished(() => { delete process.env.GIT_PROGRESS_DELAY; });
    const progress: CheckoutProgress[] = [];
    const onProgress = (p: CheckoutProgress) => progress.push(p);
    const shared = sharedCheckoutsDir(root, baseDir);

    const first = await snapshot(root);
    const made = await createWorkspaces(first, 1, { kind: 'overlay', baseDir, onProgress });
    expect(progress.at(-1)).toEqual({ phase: 'create', unit: 'files', done: 2, total: 2 });
    await removeWorkspaces(made);
    const madeAt = statSync(join(shared, 'c0', 'a.txt')).mtimeMs;

    // A new snapshot of the same files (its commit may differ by its date): the same checkout, untouched.
    progress.length = 0;
    const same = await snapshot(root);
    const reused = await createWorkspaces(same, 1, { kind: 'overlay', baseDir, onProgress });
    expect(progress).toEqual([]);
    expect(statSync(join(shared, 'c0', 'a.txt')).mtimeMs).toBe(madeAt);
    await removeWorkspaces(reused);

    // The user changed a file: the idle checkout is updated in place, only what changed is written.
    write(root, { 'b.txt': 'b changed\n' });
    const changed = await snapshot(root);
    const updated = await createWorkspaces(changed, 1, { kind: 'overlay', baseDir, onProgress });
    expect(progress.map((p) => p.phase)).toContain('update');
    expect(readFileSync(join(updated.workspaces[0].path, 'b.txt'), 'utf8')).toBe('b changed\n');
    expect(statSync(join(shared, 'c0', 'a.txt')).mtimeMs).toBe(madeAt);
    expect(readdirSync(shared).sort()).toEqual(['c0', 'c0.json']);

    // While c0 is mounted, another tree cannot take it: it gets a checkout of its own.
    write(root, { 'c.txt': 'c\n' });
    const other = await snapshot(root);
    const second = await createWorkspaces(other, 1, { kind: 'overlay', baseDir });
    expect(readdirSync(shared).sort()).toEqual(['c0', 'c0.json', 'c1', 'c1.json']);
    expect(readFileSync(join(second.workspaces[0].path, 'c.txt'), 'utf8')).toBe('c\n');
    expect(existsSync(join(updated.workspaces[0].path, 'c.txt'))).toBe(false);
    await removeWorkspaces(second);
    await removeWorkspaces(updated);

    // Once both are idle, one is kept for the next run and the other pruned; `all` removes the last.
    expect(await pruneSharedCheckouts(root, { baseDir })).toHaveLength(1);
    expect(readdirSync(shared).filter((n) => !n.endsWith('.json'))).toHaveLength(1);
    expect(await pruneSharedCheckouts(root, { baseDir, all: true })).toHaveLength(1);
    expect(existsSync(shared)).toBe(false);
    for (const snap of [first, same, changed, other]) await releaseSnapshot(snap);
  });

  it('prunes an overlay batch whose owner died, with its upper layers, and keeps the shared checkout', async (context) => {
    needs(context);
    const root = makeRepo({ 'a.txt': 'a\n' });
    const baseDir = tempDir('entropo-base-');
    const snap = await snapshot(root);
    const live = await createWorkspaces(snap, 2, { kind: 'overlay', baseDir });
    writeFileSync(join(live.workspaces[0].path, 'written.txt'), 'w\n');
    // A batch of a process that is gone: its marker names a pid that cannot exist, its layers are still on disk.
    const dead = batchPath(root, 'dead-batch', baseDir);
    await writeMarker(dead, snap, { kind: 'overlay', checkout: 'c0', holder: { pid: 2 ** 22 + 1, startTime: 1 } });
    mkdirSync(join(dead, 'layers', 'r0', 'upper'), { recursive: true });
    writeFileSync(join(dead, 'layers', 'r0', 'upper', 'left.txt'), 'x\n');
    const marker = JSON.parse(readFileSync(join(dead, 'owner.json'), 'utf8')) as { pid: number };
    writeFileSync(join(dead, 'owner.json'), JSON.stringify({ ...marker, pid: 2 ** 22 + 1 }));

    const report = await pruneStale(root, { baseDir });

    expect(report.batches).toEqual([dead]);
    expect(report.checkouts).toEqual([]);
    expect(existsSync(dead)).toBe(false);
    expect(readFileSync(join(live.workspaces[0].path, 'written.txt'), 'utf8')).toBe('w\n');
    await removeWorkspaces(live);
    await releaseSnapshot(snap);
  });

  it('removes the shared checkout of a repository that no longer exists at the next start of any other', async (context) => {
    needs(context);
    const baseDir = tempDir('entropo-base-');
    const gone = makeRepo({ 'a.txt': 'a\n' });
    const goneSnap = await snapshot(gone);
    await removeWorkspaces(await createWorkspaces(goneSnap, 1, { kind: 'overlay', baseDir }));
    const orphan = join(sharedCheckoutsDir(gone, baseDir), 'c0');
    expect(existsSync(orphan)).toBe(true);
    rmSync(gone, { recursive: true, force: true }); // a temporary clone, deleted
    const other = makeRepo({ 'b.txt': 'b\n' });

    const report = await pruneStale(other, { baseDir });

    expect(report.checkouts).toEqual([orphan]);
    expect(existsSync(join(orphan, '..', '..'))).toBe(false);
  });

  it('falls back to worktrees where overlays cannot be made, saying why, and refuses them when asked for', async () => {
    // overlayfs options cannot carry a comma, so a base folder with one has no overlays on any machine.
    const baseDir = join(tempDir('entropo-base-'), 'with,comma');
    const support = await probeOverlays({ baseDir });
    expect(support).toMatchObject({ available: false });
    expect(support.reason).toMatch(/overlay (mount )?options cannot carry|overlay workspaces need Linux|not found/);
    const auto = await chooseIsolation('auto', { baseDir });
    expect(auto.kind).toBe('worktree');
    expect(auto.reason).toMatch(/^one git worktree per rollout, since overlays do not work here: /);
    const forced = await chooseIsolation('overlay', { baseDir }).then(() => null, (e: unknown) => e);
    expect(forced).toBeInstanceOf(AgentError);
    expect((forced as AgentError).reason).toBe(ErrorReason.Config);
    expect(await chooseIsolation('worktree', { baseDir })).toEqual({ kind: 'worktree', reason: 'worktrees were asked for' });

    const root = makeRepo({ 'a.txt': 'a\n' });
    const snap = await snapshot(root);
    const batch = await createWorkspaces(snap, 2, { kind: auto.kind, baseDir });
    expect(batch.workspaces.map((w) => [w.path === w.inside, w.namespace, sh(w.path, ['rev-parse', 'HEAD']).trim()]))
      .toEqual([[true, undefined, snap.commit], [true, undefined, snap.commit]]);
    await removeWorkspaces(batch, { baseDir });
    expect(worktreeList(root)).toEqual([root]);
    await releaseSnapshot(snap);
  });
});
