import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { NodeWorkspace } from '../../../src/core/node/nodeWorkspace.js';
import { releaseSnapshot, snapshot, type Snapshot } from '../../../src/core/worktree/snapshot.js';
import type { WorkspaceBatch } from '../../../src/core/worktree/workspaceTypes.js';
import { createWorkspaces, removeWorkspaces } from '../../../src/core/worktree/workspaces.js';
import { overlaysMissing } from '../../helpers/overlays.js';
import { git, tempDir } from '../../helpers/tempRepo.js';

describe('NodeWorkspace path confinement', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  function setup() {
    const root = tempDir();
    const outside = tempDir();
    cleanups.push(root.cleanup, outside.cleanup);
    mkdirSync(path.join(root.dir, 'src'));
    writeFileSync(path.join(root.dir, 'src', 'a.py'), 'x = 1\n');
    writeFileSync(path.join(outside.dir, 'secret.txt'), 'secret\n');
    return { ws: new NodeWorkspace(root.dir), outside: outside.dir };
  }

  async function refused(promise: Promise<unknown>) {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.PathOutsideWorkspace);
    expect((error as AgentError).message).toMatch(/outside the repository/);
  }

  it('resolves relative, absolute-inside and /testbed paths', async () => {
    const { ws } = setup();
    expect(await ws.resolve('src/a.py')).toBe(path.join(ws.root, 'src', 'a.py'));
    expect(await ws.resolve(path.join(ws.root, 'src/a.py'))).toBe(path.join(ws.root, 'src', 'a.py'));
    expect(await ws.resolve('/testbed/src/a.py')).toBe(path.join(ws.root, 'src', 'a.py'));
    expect(await ws.resolve('src/new/dir/file.py')).toBe(path.join(ws.root, 'src', 'new', 'dir', 'file.py'));
    expect(ws.relative(path.join(ws.root, 'src', 'a.py'))).toBe('src/a.py');
  });

  it('refuses .., absolute paths elsewhere, and symlinks that escape', async () => {
    const { ws, outside } = setup();
    await refused(ws.resolve('../x'));
    await refused(ws.resolve('src/../../x'));
    await refused(ws.resolve('/etc/passwd'));
    await refused(ws.resolve(path.join(outside, 'secret.txt')));
    symlinkSync(outside, path.join(ws.root, 'link'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(ws.root, 'src', 'file-link'));
    await refused(ws.resolve('link/secret.txt'));
    await refused(ws.resolve('link/new-file.txt'));
    await refused(ws.resolve('src/file-link'));
    // A dangling link, to a file that does not exist yet outside: a write through it would create that file.
    symlinkSync(path.join(outside, 'planted.py'), path.join(ws.root, 'src', 'dangling'));
    await refused(ws.resolve('src/dangling'));
    symlinkSync(path.join(outside, 'no-folder', 'x'), path.join(ws.root, 'dangling-dir'));
    await refused(ws.resolve('dangling-dir/y.py'));
  });

  it('accepts a symlink that stays inside', async () => {
    const { ws } = setup();
    symlinkSync(path.join(ws.root, 'src'), path.join(ws.root, 'alias'));
    expect(await ws.resolve('alias/a.py')).toBe(path.join(ws.root, 'alias', 'a.py'));
  });
});

describe('NodeWorkspace over an overlay in another mount namespace', () => {
  let missing: string | null = null;
  let batch: WorkspaceBatch | undefined;
  let snap: Snapshot | undefined;
  const repo = tempDir('entropo-repo-');
  const base = tempDir('entropo-base-');
  beforeAll(async () => {
    missing = await overlaysMissing(base.dir);
    if (missing) return;
    mkdirSync(path.join(repo.dir, 'src'));
    writeFileSync(path.join(repo.dir, 'src', 'a.py'), 'x = 1\n');
    git(repo.dir, 'init', '-q');
    git(repo.dir, 'add', '-A');
    git(repo.dir, 'commit', '-q', '-m', 'initial');
    snap = await snapshot(repo.dir);
    batch = await createWorkspaces(snap, 1, { kind: 'overlay', baseDir: base.dir });
  });
  afterAll(async () => {
    if (batch) await removeWorkspaces(batch);
    if (snap) await releaseSnapshot(snap);
    repo.cleanup();
    base.cleanup();
  });

  it('resolves the paths commands see onto this process\'s view, and follows links as a process inside would', async (context) => {
    if (missing) context.skip(missing);
    const view = batch!.workspaces[0];
    const ws = new NodeWorkspace(view.inside, { hostRoot: view.namespace!.hostRoot });
    expect(ws.root).toBe(view.path);
    expect(ws.inside).toBe(view.inside);
    const file = path.join(view.path, 'src', 'a.py');
    expect(await ws.resolve('src/a.py')).toBe(file);
    expect(await ws.resolve(path.join(view.inside, 'src/a.py'))).toBe(file);
    expect(await ws.resolve('/testbed/src/a.py')).toBe(file);
    expect(await ws.resolve(file)).toBe(file);
    expect(ws.relative(file)).toBe('src/a.py');
    // An absolute link into the workspace means the workspace inside the namespace, not the empty folder here.
    symlinkSync(path.join(view.inside, 'src'), path.join(view.path, 'alias'));
    expect(await ws.resolve('alias/a.py')).toBe(path.join(view.path, 'alias', 'a.py'));
    symlinkSync('/etc', path.join(view.path, 'etc-link'));
    const error = await ws.resolve('etc-link/passwd').then(() => undefined, (e: unknown) => e);
    expect((error as AgentError).reason).toBe(ErrorReason.PathOutsideWorkspace);
    expect((error as AgentError).message).toContain(`outside the repository (${view.inside})`);
    await expect(ws.resolve('../x')).rejects.toThrow(/outside the repository/);
  });
});
