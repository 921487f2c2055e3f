import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { extractOverlayPatch, upperChanges } from '../../../src/core/worktree/overlayPatch.js';
import { changedFiles } from '../../../src/core/worktree/patch.js';
import { releaseSnapshot, snapshot, type Snapshot } from '../../../src/core/worktree/snapshot.js';
import type { IsolatedWorkspace, WorkspaceBatch } from '../../../src/core/worktree/workspaceTypes.js';
import { createWorkspaces, removeWorkspaces } from '../../../src/core/worktree/workspaces.js';
import { overlaysMissing } from '../../helpers/overlays.js';
import { cleanup, makeRepo, tempDir } from './repo.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3, 0, 255, 254]);

/** Runs a program inside the workspace's namespace, in the workspace. */
function inside(ws: IsolatedWorkspace, file: string, args: string[], env: Record<string, string> = {}): string {
  const [enter, ...prefix] = ws.namespace!.enter;
  return execFileSync(enter, [...prefix, file, ...args], { cwd: ws.path, encoding: 'utf8', env: { ...process.env, ...env } });
}

/**
 * What `git add -A` over the whole merged view gives, from the snapshot's own index: the slow, obviously
 * right answer that the upper-layer walk must match exactly.
 */
function addAllPatch(ws: IsolatedWorkspace, commit: string): string {
  const index = join(tempDir('entropo-index-'), 'index');
  copyFileSync(join(ws.layers!.lower, '.git', 'index'), index);
  const env = { GIT_INDEX_FILE: index };
  inside(ws, 'git', ['add', '-A', '--', '.'], env);
  return inside(ws, 'git', ['diff', '--cached', '--binary', '-M', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative',
    '--submodule=short', '--src-prefix=a/', '--dst-prefix=b/', commit], env);
}

let missing: string | null = null;
let snap: Snapshot;
let batch: WorkspaceBatch | undefined;

beforeAll(async () => {
  missing = await overlaysMissing();
  if (missing) return;
  const repo = makeRepo({
    'a.txt': 'line 1\nline 2\n', 'old.txt': 'to be moved\n', 'gone.txt': 'to be deleted\n', 'script.sh': '#!/bin/sh\n',
    'tool.sh': '#!/bin/sh\n', 'img.png': PNG, 'docs/one.md': '1\n', 'docs/two.md': '2\n', 'pkg/keep.py': 'k\n',
    'pkg/sub/x.py': 'x\n', 'lib/inner.c': 'int i;\n', 'flat': 'a file that becomes a folder\n', 'touched.txt': 't\n',
    'dir with space/ünï cødé.txt': 'before\n', 'star*name.txt': 's\n', '.gitignore': 'build/\n*.log\n', 'kept.log': 'tracked log\n',
  });
  execFileSync('chmod', ['+x', join(repo, 'tool.sh')]);
  execFileSync('ln', ['-s', 'a.txt', join(repo, 'link-a')]);
  execFileSync('git', ['-C', repo, 'add', '-A']);
  // Tracked although .gitignore covers it: its changes count.
  execFileSync('git', ['-C', repo, 'add', '-f', 'kept.log']);
  execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'links']);
  snap = await snapshot(repo);
  batch = await createWorkspaces(snap, 2, { kind: 'overlay', baseDir: tempDir('entropo-base-') });
});

afterAll(async () => {
  if (batch) await removeWorkspaces(batch);
  if (snap) await releaseSnapshot(snap);
  cleanup();
});

describe('extractOverlayPatch', () => {
  const needs = (context: TestContext) => { if (missing) context.skip(missing); };

  it('finds every kind of change in the upper layer, exactly as git add -A over the whole tree does', async (context) => {
    needs(context);
    const ws = batch!.workspaces[0];
    const at = (p: string) => join(ws.path, p);
    writeFileSync(at('a.txt'), 'line 1\nline two\n');
    inside(ws, 'mv', ['old.txt', 'renamed.txt']);
    rmSync(at('gone.txt'));
    chmodSync(at('script.sh'), 0o755);
    chmodSync(at('tool.sh'), 0o644);
    writeFileSync(at('img.png'), Buffer.concat([PNG, Buffer.from([9, 0])]));
    mkdirSync(at('src/deep'), { recursive: true });
    writeFileSync(at('src/deep/new.py'), 'NEW = 1\n');
    symlinkSync('src/deep/new.py', at('link-new'));
    rmSync(at('link-a'));
    symlinkSync('renamed.txt', at('link-a'));
    rmSync(at('docs'), { recursive: true });
    // Deleted and made again: an opaque folder, whose lower files vanish without whiteouts of their own.
    rmSync(at('pkg'), { recursive: true });
    mkdirSync(at('pkg'));
    writeFileSync(at('pkg/keep.py'), 'k2\n');
    rmSync(at('flat'));
    mkdirSync(at('flat'));
    writeFileSync(at('flat/inside.txt'), 'now a folder\n');
    rmSync(at('lib'), { recursive: true });
    writeFileSync(at('lib'), 'now a file\n');
    writeFileSync(at('dir with space/ünï cødé.txt'), 'after\n');
    writeFileSync(at('star*name.txt'), 's2\n');
    mkdirSync(at('build'));
    writeFileSync(at('build/out.o'), 'ignored\n');
    writeFileSync(at('debug.log'), 'ignored\n');
    writeFileSync(at('kept.log'), 'tracked log, changed\n');
    utimesSync(at('touched.txt'), new Date(), new Date());
    mkdirSync(at('empty-dir'));
    inside(ws, 'mkfifo', ['pipe']);
    inside(ws, 'sh', ['-c', 'mkdir vendored && cd vendored && git init -q && echo v > v.txt && git add v.txt && git -c user.name=t -c user.email=t@e commit -qm v']);

    const patch = await extractOverlayPatch(ws, snap.commit, { scratchPatterns: [] });

    expect(patch).toBe(addAllPatch(ws, snap.commit));
    expect(changedFiles(patch).sort()).toEqual([
      'a.txt', 'dir with space/ünï cødé.txt', 'docs/one.md', 'docs/two.md', 'flat', 'flat/inside.txt', 'gone.txt', 'img.png',
      'kept.log', 'lib', 'lib/inner.c', 'link-a', 'link-new', 'old.txt', 'pkg/keep.py', 'pkg/sub/x.py', 'renamed.txt', 'script.sh',
      'src/deep/new.py', 'star*name.txt', 'tool.sh', 'vendored',
    ]);
    expect(patch).toContain('rename from old.txt\nrename to renamed.txt');
    expect(patch).toContain('diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644');
    expect(patch).toContain('diff --git a/script.sh b/script.sh\nold mode 100644\nnew mode 100755');
    expect(patch).toContain('diff --git a/tool.sh b/tool.sh\nold mode 100755\nnew mode 100644');
    expect(patch).toContain('diff --git a/link-new b/link-new\nnew file mode 120000');
    expect(patch).toMatch(/diff --git a\/link-a b\/link-a\nindex \w+\.\.\w+ 120000\n--- a\/link-a\n\+\+\+ b\/link-a\n@@ -1 \+1 @@\n-a\.txt/);
    expect(patch).toContain('GIT binary patch');
    expect(patch).toContain('diff --git a/vendored b/vendored\nnew file mode 160000');
    expect(patch).not.toContain('build/out.o');
    expect(patch).not.toContain('debug.log');
    expect(patch).not.toContain('touched.txt');
  });

  it('reads an untouched workspace as an empty patch, and leaves out scratch files the agent added', async (context) => {
    needs(context);
    const ws = batch!.workspaces[1];
    expect(await extractOverlayPatch(ws, snap.commit)).toBe('');
    writeFileSync(join(ws.path, 'reproduce_issue.py'), 'print(1)\n');
    writeFileSync(join(ws.path, 'a.txt'), 'changed\n');
    const changes = await upperChanges(ws.layers!.upper, ws.layers!.lower, ws.path);
    expect(changes.written.sort()).toEqual(['a.txt', 'reproduce_issue.py']);
    expect(changedFiles(await extractOverlayPatch(ws, snap.commit))).toEqual(['a.txt']);
    expect(changedFiles(await extractOverlayPatch(ws, snap.commit, { keep: ['reproduce_issue.py'] })).sort()).toEqual(['a.txt', 'reproduce_issue.py']);
  });
});
