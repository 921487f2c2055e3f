/**
 * Our git calls run no hook and no file-system monitor: a relative core.hooksPath (husky's `.husky/_`) or
 * core.fsmonitor resolves inside the work tree, where the agent's commands write, and git would run what
 * they put there outside the sandbox. Filter drivers run, but contained.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import type { HelperSandbox } from '../../../src/core/sandbox/helperSandbox.js';
import { testSignals } from '../../../src/core/verify/execution/testSignals.js';
import { containedFilters } from '../../../src/core/worktree/filterDrivers.js';
import { applyPatch, changedFiles, extractPatch } from '../../../src/core/worktree/patch.js';
import { releaseSnapshot, snapshot, type Snapshot } from '../../../src/core/worktree/snapshot.js';
import type { IsolatedWorkspace, WorkspaceBatch } from '../../../src/core/worktree/workspaceTypes.js';
import { createWorkspaces, removeWorkspaces, workspacePatch } from '../../../src/core/worktree/workspaces.js';
import { createWorktrees, removeWorktrees } from '../../../src/core/worktree/worktrees.js';
import { overlaysMissing } from '../../helpers/overlays.js';
import { sandbox } from '../sandbox/helpers.js';
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

/**
 * Filter drivers: git runs them on file contents in the work tree's top folder, so a relative one runs the
 * agent's files. In a workspace they run in a helper sandbox: still converting (untouched files stay equal),
 * but writing nothing, with no secret in sight.
 */
describe.skipIf(!sandbox.available).each(['worktree', 'overlay'] as const)('filter drivers in %s workspaces', (kind) => {
  const KEY = 'sk-test-9d3e5f7a1c2b';
  let snap: Snapshot;
  let batch: WorkspaceBatch | undefined;
  let filterSandbox: HelperSandbox;
  let marker: string;
  let secretDir: string;
  let missing: string | null = null;

  beforeAll(async () => {
    if (kind === 'overlay') missing = await overlaysMissing();
    if (missing) return;
    const repo = makeRepo(null);
    write(repo, {
      'tools/clean.sh': '#!/bin/sh\ntr a-z A-Z\n', 'tools/smudge.sh': '#!/bin/sh\ntr A-Z a-z\n',
      'tools/name.sh': '#!/bin/sh\nprintf "%s:" "$1"; cat\n',
      '.gitattributes': '*.dat filter=case\n*.named filter=named\n*.pct filter=pct\n*.peek filter=peek\n',
      'a.dat': 'hello\n',
    });
    for (const tool of ['clean', 'smudge', 'name']) chmodSync(join(repo, `tools/${tool}.sh`), 0o755);
    // Outside the system temp folder, so that the sandbox's private /tmp is not what hides it.
    secretDir = mkdtempSync('/var/tmp/entropo-filter-secret-');
    writeFileSync(join(secretDir, 'token'), 'SECRET-MATERIAL\n');
    for (const [key, value] of Object.entries({
      'filter.case.clean': './tools/clean.sh', 'filter.case.smudge': './tools/smudge.sh',
      'filter.named.clean': 'sh tools/name.sh %f', 'filter.pct.clean': 'echo 100%%; cat',
      'filter.peek.clean': `cat '${secretDir}/token' 2>/dev/null; echo "env=$PEEK"; cat`,
    })) sh(repo, ['config', key, value]);
    sh(repo, ['add', '-A']);
    sh(repo, ['commit', '-q', '-m', 'filters']);
    expect(sh(repo, ['show', 'HEAD:a.dat'])).toBe('HELLO\n');
    marker = join(tempDir('entropo-marker-'), 'ran.log');
    snap = await snapshot(repo);
    batch = await createWorkspaces(snap, 3, { kind, baseDir: tempDir('entropo-base-') });
    filterSandbox = { bwrapPath: (await detectSandbox()).bwrapPath!, hiddenPaths: [secretDir], secrets: [KEY] };
    process.env.PEEK = KEY;
  });

  afterAll(async () => {
    delete process.env.PEEK;
    if (batch) await removeWorkspaces(batch);
    if (snap) await releaseSnapshot(snap);
    if (secretDir) rmSync(secretDir, { recursive: true, force: true });
  });

  /** What an agent's commands can do: rewrite the drivers' scripts, which git then runs. */
  function tamper(ws: IsolatedWorkspace): void {
    write(ws.path, {
      'tools/clean.sh': `#!/bin/sh\necho clean >> '${marker}'\ntr a-z A-Z\n`,
      'tools/smudge.sh': `#!/bin/sh\necho smudge >> '${marker}'\ntr A-Z a-z\n`,
      'z.dat': 'fresh\n', 'dir/a b%f.named': 'x\n', 'p.pct': 'y\n', 'q.peek': 'z\n',
    });
    // Rewritten in place, the same: git must hash it again, through the driver.
    const future = new Date(Date.now() + 5_000);
    utimesSync(join(ws.path, 'a.dat'), future, future);
  }

  const ran = () => (existsSync(marker) ? readFileSync(marker, 'utf8') : '');

  it('reads a patch through the drivers, contained', async (context) => {
    if (missing) context.skip(missing);
    const ws = batch!.workspaces[0];
    tamper(ws);
    writeFileSync(marker, '');
    const patch = await workspacePatch(ws, snap.commit, { filterSandbox });
    expect(ran()).toBe('');
    expect(changedFiles(patch).sort()).toEqual(['dir/a b%f.named', 'p.pct', 'q.peek', 'tools/clean.sh', 'tools/smudge.sh', 'z.dat']);
    // Converted by the agent's own clean.sh, whose write outside failed
    expect(patch).toContain('+FRESH');
    expect(patch).toContain('+dir/a b%f.named:x');
    expect(patch).toContain('+100%\n+y');
    expect(patch).toContain('+env=\n+z');
    expect(patch).not.toContain(KEY);
    expect(patch).not.toContain('SECRET-MATERIAL');
    // Git itself runs them: the check that the setup is live
    await workspacePatch(ws, snap.commit);
    expect(ran()).toMatch(/clean/);
  });

  it('applies a patch through the drivers, contained', async (context) => {
    if (missing) context.skip(missing);
    const source = batch!.workspaces[0];
    tamper(source);
    const patch = await workspacePatch(source, snap.commit, { filterSandbox });
    const [, contained, open] = batch!.workspaces;
    writeFileSync(marker, '');
    // tools/smudge.sh comes before z.dat in the patch: git writes the agent's script, then runs it on z.dat.
    await applyPatch(contained.path, patch, { namespace: contained.namespace, filterSandbox });
    expect(ran()).toBe('');
    expect(readFileSync(join(contained.path, 'z.dat'), 'utf8')).toBe('fresh\n');
    await applyPatch(open.path, patch, { namespace: open.namespace });
    expect(ran()).toMatch(/smudge/);
  });

  it('verification applies each candidate contained, like the rollouts', async (context) => {
    if (missing) context.skip(missing);
    const source = batch!.workspaces[0];
    tamper(source);
    const patch = await workspacePatch(source, snap.commit, { filterSandbox });
    writeFileSync(marker, '');
    const signals = await testSignals(snap, [{ id: 'r0', patch }], {
      baseDir: tempDir('entropo-verify-'), isolation: kind, containment: { mode: 'required', sandbox: { network: 'off' } },
    });
    expect(ran()).toBe('');
    // No test command in this repository: the candidate's tree was made, and nothing ran in it.
    expect(signals.regression.values.get('r0')).toMatchObject({ status: 'unavailable' });
  });
});

describe('containedFilters', () => {
  it('leaves Git LFS and switched-off drivers as configured and wraps every other', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    for (const [key, value] of Object.entries({
      'filter.lfs.clean': 'git-lfs clean -- %f', 'filter.lfs.process': 'git-lfs filter-process',
      'filter.abs.clean': '/usr/local/bin/git-lfs clean -- %f', 'filter.fake.clean': './git-lfs clean -- %f',
      'filter.off.clean': '', 'filter.Mixed.Case.process': 'tools/serve --long', 'filter.sub.smudge': 'git lfs smudge -- %f',
    })) sh(repo, ['config', key, value]);
    const config = await containedFilters({ bwrapPath: '/usr/bin/bwrap' }, { cwd: repo });
    const keys = config.filter((_, i) => i % 2 === 1).map((arg) => arg.slice(0, arg.indexOf('=')));
    expect(keys).toEqual(['filter.fake.clean', 'filter.Mixed.Case.process']);
    const [fake, serve] = config.filter((_, i) => i % 2 === 1);
    expect(fake).toMatch(/^filter\.fake\.clean='\/usr\/bin\/bwrap' .* -- sh -c '\.\/git-lfs clean -- "\$1"' sh %f$/);
    // A long-running driver is started once, never expanded: no %f, nothing doubled.
    expect(serve).toMatch(/ -- sh -c 'tools\/serve --long'$/);
    expect(await containedFilters(undefined, { cwd: repo })).toEqual([]);
  });
});
