/**
 * A submodule folder the agent turned into a repository of its own: reading the patch out must not run git
 * in it, which would read that repository's config, where a filter driver the agent wrote runs on the host.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseSnapshot, snapshot } from '../../../src/core/worktree/snapshot.js';
import { createWorkspaces, removeWorkspaces, workspacePatch } from '../../../src/core/worktree/workspaces.js';
import { overlaysMissing } from '../../helpers/overlays.js';
import { cleanup, makeRepo, sh, tempDir } from './repo.js';

afterAll(cleanup);

describe.each(['worktree', 'overlay'] as const)('a submodule in %s workspaces', (kind) => {
  it('is left as the snapshot records it, and nothing of the repository the agent made there runs', async (context) => {
    const missing = kind === 'overlay' ? await overlaysMissing() : null;
    if (missing) context.skip(missing);
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const recorded = sh(repo, ['rev-parse', 'HEAD']).trim();
    // A gitlink at lib/ (an uninitialised submodule) that records the repository's own first commit.
    sh(repo, ['update-index', '--add', '--cacheinfo', `160000,${recorded},lib`]);
    sh(repo, ['commit', '-q', '-m', 'a submodule']);
    // As a clone without `submodule update` has it: an empty folder.
    mkdirSync(join(repo, 'lib'));
    const snap = await snapshot(repo);
    const batch = await createWorkspaces(snap, 1, { kind, baseDir: tempDir('entropo-base-') });
    context.onTestFinished(async () => {
      await removeWorkspaces(batch);
      await releaseSnapshot(snap);
    });
    const [ws] = batch.workspaces;
    const marker = join(tempDir('entropo-marker-'), 'ran');
    // What the agent's commands do in lib/: a repository whose HEAD is the recorded commit (its objects
    // borrowed), whose config names a filter driver for every file, and a changed file for git to hash.
    const lib = join(ws.path, 'lib');
    // In an overlay, git must run inside the workspace's namespace to see it.
    const [program, ...prefix] = [...(ws.namespace?.enter ?? []), 'git'];
    const inLib = (args: string[]) => execFileSync(program, [...prefix, '-C', join(ws.inside, 'lib'), ...args], { stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' } });
    mkdirSync(lib, { recursive: true });
    inLib(['init', '-q']);
    inLib(['config', 'filter.ev.clean', `sh -c 'id > ${marker}; cat'`]);
    writeFileSync(join(lib, '.gitattributes'), '* filter=ev\n');
    writeFileSync(join(lib, 'f'), 'a\n');
    inLib(['add', '-A']);
    inLib(['commit', '-q', '-m', 'tracked, so that a change is hashed']);
    writeFileSync(join(lib, '.git', 'objects', 'info', 'alternates'), `${join(repo, '.git', 'objects')}\n`);
    writeFileSync(join(lib, '.git', 'HEAD'), `${recorded}\n`);
    writeFileSync(join(lib, 'f'), 'b\n');
    writeFileSync(marker, '');
    rmSync(marker);
    writeFileSync(join(ws.path, 'a.txt'), 'changed\n');
    const patch = await workspacePatch(ws, snap.commit);
    expect(existsSync(marker)).toBe(false);
    expect(patch).toContain('+changed');
    expect(patch, patch).not.toContain('Subproject commit');
  });
});
