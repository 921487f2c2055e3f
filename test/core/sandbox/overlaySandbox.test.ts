import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessRunner, type ContainedRunner } from '../../../src/core/sandbox/createProcessRunner.js';
import { releaseSnapshot, snapshot, type Snapshot } from '../../../src/core/worktree/snapshot.js';
import type { WorkspaceBatch } from '../../../src/core/worktree/workspaceTypes.js';
import { createWorkspaces, removeWorkspaces } from '../../../src/core/worktree/workspaces.js';
import { eventually, namespaceAlive, namespaceOf, overlaysMissing } from '../../helpers/overlays.js';
import { cleanup, git, sandbox, tempDir, write } from './helpers.js';

// Outside the system temp folder, which every sandbox replaces with a private one: here the lower layer and
// the user's repository are in plain view of the sandbox, so only its mounts can keep them unwritten.
const PARENT = '/var/tmp';

describe.skipIf(!sandbox.available)('the sandbox over an overlay workspace', () => {
  let missing: string | null = null;
  let repo: string;
  let snap: Snapshot;
  let batch: WorkspaceBatch | undefined;
  let runner: ContainedRunner | undefined;

  beforeAll(async () => {
    const base = tempDir('entropo-ovl-sbx-', PARENT);
    missing = await overlaysMissing(join(base, 'workspaces'));
    if (missing) return;
    repo = join(base, 'repo');
    write(repo, { 'a.txt': 'original\n', 'tests/test_a.py': 'def test_a():\n    assert True\n' });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'initial');
    snap = await snapshot(repo);
    batch = await createWorkspaces(snap, 1, { kind: 'overlay', baseDir: join(base, 'workspaces') });
    const ws = batch.workspaces[0];
    runner = await createProcessRunner({ mode: 'required', sandbox: { writable: [ws.inside], namespace: ws.namespace, network: 'off' } });
  });

  afterAll(async () => {
    await runner?.dispose();
    if (batch) await removeWorkspaces(batch);
    if (snap) await releaseSnapshot(snap);
    cleanup();
  });

  it('writes only into the workspace: never the lower layer, the upper folder, .git or the user\'s tree', async (context) => {
    if (missing) context.skip(missing);
    const ws = batch!.workspaces[0];
    const { lower, upper } = ws.layers!;
    const attempts = [join(lower, 'a.txt'), join(lower, 'new.txt'), join(upper, 'planted.txt'), join(repo, 'a.txt'), '.git/config', '.git/hooks/pre-commit'];
    const script = [...attempts.map((path) => `(echo pwned > '${path}') 2>/dev/null && echo "wrote ${path}"`),
      'echo changed > a.txt', 'echo new > inside.txt', 'pwd', 'git status --porcelain'].join('; ');
    const result = await runner!.shell(script, { cwd: ws.path, timeoutMs: 30_000 });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain('wrote ');
    expect(result.stdout).toContain(`${ws.inside}\n`);
    expect(result.stdout).toContain(' M a.txt\n?? inside.txt\n');
    expect(readFileSync(join(lower, 'a.txt'), 'utf8')).toBe('original\n');
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('original\n');
    expect(existsSync(join(lower, 'new.txt'))).toBe(false);
    expect(readFileSync(join(ws.path, 'a.txt'), 'utf8')).toBe('changed\n');
    expect(readFileSync(join(upper, 'inside.txt'), 'utf8')).toBe('new\n');
    expect(existsSync(join(upper, 'planted.txt'))).toBe(false);
    expect(existsSync(join(upper, '.git', 'config'))).toBe(false);
  });

  it('ends the processes a command leaves behind with the command, and nothing outlives the batch', async (context) => {
    if (missing) context.skip(missing);
    const ws = batch!.workspaces[0];
    const result = await runner!.shell('(sleep 300 &) ; echo started', { cwd: ws.path, timeoutMs: 10_000 });
    expect(result.stdout).toBe('started\n');
    const ns = namespaceOf(ws.path)!;
    await runner!.dispose();
    runner = undefined;
    await removeWorkspaces(batch!);
    batch = undefined;
    expect(await eventually(() => !namespaceAlive(ns))).toBe(true);
  });
});
