/**
 * Our git calls run no hook and no file-system monitor: a relative core.hooksPath (husky's `.husky/_`) or
 * core.fsmonitor resolves inside the work tree, where the agent's commands write, and git would run what
 * they put there outside the sandbox. Filter drivers run, but contained.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import type { HelperSandbox } from '../../../src/core/sandbox/helperSandbox.js';
import { testSignals } from '../../../src/core/verify/execution/testSignals.js';
import { expansion, withContainedFilters } from '../../../src/core/worktree/filterDrivers.js';
import { applyToWorkingTree } from '../../../src/core/worktree/candidateTree.js';
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
      '.gitattributes': '*.dat filter=case\n*.named filter=named\n*.pct filter=pct\n*.peek filter=peek\n*.eq filter=a=b\n*.show filter=show\n*.w filter=writer\n',
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
      // A name a `-c name=value` argument cannot say
      'filter.a=b.clean': './tools/clean.sh',
      // What git's own expansion gives: the path quoted, inside quotes or not; the command as $0, no arguments
      'filter.show.clean': `printf '[%s|%s] %s (%s)\\n' %f "%f" "$#" "$0"; cat`,
      // One that must write in the work tree, which the sandbox does not let it
      'filter.writer.clean': 'touch .written && tr a-z A-Z', 'filter.writer.smudge': 'touch .written && cat',
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
      'z.dat': 'fresh\n', 'dir/a b%f.named': 'x\n', 'p.pct': 'y\n', 'q.peek': 'z\n', 'e.eq': 'equal\n',
      'w.w': 'raw\n', 'a b.show': '1\n', "it's.show": '2\n', '100%.show': '3\n', 'x!y.show': '4\n', 'st*r.show': '5\n',
    });
    // Rewritten in place, the same: git must hash it again, through the driver.
    const future = new Date(Date.now() + 5_000);
    utimesSync(join(ws.path, 'a.dat'), future, future);
  }

  const ran = () => (existsSync(marker) ? readFileSync(marker, 'utf8') : '');

  /** The patch of the first workspace, tampered with, read out contained. */
  async function tamperedPatch(): Promise<string> {
    tamper(batch!.workspaces[0]);
    return workspacePatch(batch!.workspaces[0], snap.commit, { filterSandbox });
  }

  it('reads a patch through the drivers, contained', async (context) => {
    if (missing) context.skip(missing);
    const ws = batch!.workspaces[0];
    tamper(ws);
    writeFileSync(marker, '');
    const warnings: string[] = [];
    const patch = await workspacePatch(ws, snap.commit, { filterSandbox, onWarning: (m) => warnings.push(m) });
    expect(ran()).toBe('');
    expect(changedFiles(patch).sort()).toEqual(['100%.show', 'a b.show', 'dir/a b%f.named', 'e.eq', "it's.show", 'p.pct', 'q.peek',
      'st*r.show', 'tools/clean.sh', 'tools/smudge.sh', 'w.w', 'x!y.show', 'z.dat']);
    // The driver that needs to write failed there; git took the file as it is, and that is said.
    expect(patch).toContain('+raw');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/a filter driver of the repository failed in its sandbox .*unconverted \(error: external filter/);
    // Converted by the agent's own clean.sh, whose write outside failed
    expect(patch).toContain('+FRESH');
    expect(patch).toContain('+EQUAL');
    expect(patch).toContain('+dir/a b%f.named:x');
    expect(patch).toContain('+100%\n+y');
    expect(patch).toContain('+env=\n+z');
    expect(patch).not.toContain(KEY);
    expect(patch).not.toContain('SECRET-MATERIAL');
    // Git itself runs them: the check that the setup is live; and it expands their commands as the sandbox's do.
    const plain = await workspacePatch(ws, snap.commit);
    expect(ran()).toMatch(/clean/);
    const shown = (text: string) => text.split(/^(?=diff --git )/m).filter((file) => file.includes('.show'));
    expect(shown(patch)).toHaveLength(5);
    expect(shown(patch)).toEqual(shown(plain));
    expect(patch).toContain(`+[a b.show|'a b.show'] 0 (printf`);
  });

  it('applies a patch through the drivers, contained', async (context) => {
    if (missing) context.skip(missing);
    const patch = await tamperedPatch();
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
    const patch = await tamperedPatch();
    writeFileSync(marker, '');
    const warnings: string[] = [];
    const signals = await testSignals(snap, [{ id: 'r0', patch }], {
      baseDir: tempDir('entropo-verify-'), isolation: kind, containment: { mode: 'required', sandbox: { network: 'off' }, onWarning: (m) => warnings.push(m) },
    });
    expect(ran()).toBe('');
    // The driver that must write could not smudge w.w in the candidate's tree: said, with the candidate.
    expect(warnings).toEqual([expect.stringMatching(/^r0: a filter driver of the repository failed in its sandbox/)]);
    // No test command in this repository: the candidate's tree was made, and nothing ran in it.
    expect(signals.regression.values.get('r0')).toMatchObject({ status: 'unavailable' });
  });

  // Last: it changes the repository the others snapshot.
  it('applying a candidate to the user\'s own tree runs the drivers contained too', async (context) => {
    if (missing) context.skip(missing);
    const patch = await tamperedPatch();
    writeFileSync(marker, '');
    const warnings: string[] = [];
    await applyToWorkingTree(snap.root, snap.commit, patch, (m) => warnings.push(m));
    expect(ran()).toBe('');
    expect(warnings).toEqual([expect.stringMatching(/filter driver of the repository failed in its sandbox/)]);
    expect(readFileSync(join(snap.root, 'z.dat'), 'utf8')).toBe('fresh\n');
    expect(readFileSync(join(snap.root, 'tools/smudge.sh'), 'utf8')).toContain('echo smudge');
  });
});

describe('withContainedFilters', () => {
  it('passes Git LFS\'s own driver by its absolute path, and contains every other driver, whatever its name', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const bin = tempDir('entropo-bin-');
    write(bin, { 'git-lfs': '#!/bin/sh\n' });
    chmodSync(join(bin, 'git-lfs'), 0o755);
    // A git-lfs of the work tree, which a relative PATH entry would find
    write(repo, { 'git-lfs': '#!/bin/sh\n' });
    chmodSync(join(repo, 'git-lfs'), 0o755);
    for (const [key, value] of Object.entries({
      'filter.lfs.clean': 'git-lfs clean -- %f', 'filter.lfs.process': 'git-lfs filter-process', 'filter.lfs.smudge': 'git-lfs smudge --skip -- %f',
      'filter.more.clean': 'git-lfs clean -- %f; ./tools/x.sh', 'filter.old.clean': 'git lfs clean %f', 'filter.off.clean': '',
      'filter.a=b.smudge': './tools/s.sh %f', 'filter.Mixed.Case.process': 'tools/serve --long',
    })) sh(repo, ['config', key, value]);
    const path = process.env.PATH;
    const sandbox = { bwrapPath: '/usr/bin/bwrap' };
    try {
      process.env.PATH = `.:${bin}:${path}`;
      const seen = await withContainedFilters(sandbox, { cwd: repo }, async (env) => {
        const pairs = new Map<string, string>();
        for (let i = 0; i < Number(env!.GIT_CONFIG_COUNT); i++) pairs.set(env![`GIT_CONFIG_KEY_${i}`], env![`GIT_CONFIG_VALUE_${i}`]);
        // Each contained driver is a private script of ours, whose command is its own
        for (const [key, value] of pairs) {
          if (key.startsWith('filter.lfs.')) continue;
          const script = /^'([^']+)'/.exec(value)![1];
          expect((statSync(script).mode & 0o777).toString(8)).toBe('700');
          expect(readFileSync(script, 'utf8')).toContain("'/usr/bin/bwrap'");
        }
        return { pairs, scripts: [...pairs.values()].map((v) => /^'([^']+)'/.exec(v)![1]) };
      });
      expect([...seen.pairs.keys()].sort()).toEqual(['filter.Mixed.Case.process', 'filter.a=b.smudge', 'filter.lfs.clean', 'filter.lfs.process',
        'filter.lfs.smudge', 'filter.more.clean', 'filter.old.clean']);
      expect(seen.pairs.get('filter.lfs.clean')).toBe(`'${bin}/git-lfs' clean -- %f`);
      expect(seen.pairs.get('filter.lfs.process')).toBe(`'${bin}/git-lfs' filter-process`);
      expect(seen.pairs.get('filter.lfs.smudge')).toBe(`'${bin}/git-lfs' smudge --skip -- %f`);
      for (const key of ['filter.more.clean', 'filter.old.clean', 'filter.a=b.smudge']) expect(seen.pairs.get(key)).toMatch(/^'[^']+\/driver-\d+' %f$/);
      // A long-running driver is started as it is: no path to expand.
      expect(seen.pairs.get('filter.Mixed.Case.process')).toMatch(/^'[^']+\/driver-\d+'$/);
      // The scripts are gone with the call.
      for (const script of seen.scripts.filter((s) => s.includes('driver-'))) expect(existsSync(script)).toBe(false);
      // Not found but in the work tree (".", or no git-lfs installed): contained like any other.
      process.env.PATH = `.:${path}`;
      const found = await withContainedFilters(sandbox, { cwd: repo }, async (env) => env!.GIT_CONFIG_VALUE_0);
      expect(found).toMatch(/driver-0' %f$/);
    } finally {
      process.env.PATH = path;
    }
    expect(await withContainedFilters(undefined, { cwd: repo }, async (env) => env)).toBeUndefined();
  });

  it('splits a command at its %f as git expands it', () => {
    expect(expansion("printf '[%s]' %f \"%f\" 100%% %x end%")).toEqual(["printf '[%s]' ", ' "', '" 100% %x end%']);
    expect(expansion('./clean.sh')).toEqual(['./clean.sh']);
  });
});
