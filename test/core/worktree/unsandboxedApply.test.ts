/**
 * On a machine where no sandbox works, a candidate applied to the user's own tree must not run the
 * repository's filter drivers on the host: the candidate may have rewritten what they run.
 */
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import { applyToWorkingTree, changedSinceSnapshot } from '../../../src/core/worktree/candidateTree.js';
import { changedFiles } from '../../../src/core/worktree/patch.js';
import { cleanup, makeRepo, sh, tempDir, write } from './repo.js';

const SMUDGE = '#!/bin/sh\ncat\n';

/** The patch of `edits` against `repo`'s HEAD, the repository left as it was. */
function patchOf(repo: string, edits: Record<string, string>): string {
  write(repo, edits);
  sh(repo, ['add', '-A']);
  const patch = sh(repo, ['diff', '--cached', '--binary', '--src-prefix=a/', '--dst-prefix=b/']);
  sh(repo, ['reset', '-q', '--hard']);
  return patch;
}

describe('applying a candidate where no sandbox works', () => {
  const path = process.env.PATH;
  let marker: string;

  beforeAll(async () => {
    marker = join(tempDir('entropo-marker-'), 'ran');
    // Every program the apply needs, but no bubblewrap: git alone (it finds its helpers by its own exec path).
    const bin = tempDir('entropo-bin-');
    symlinkSync(execPath('git'), join(bin, 'git'));
    process.env.PATH = bin;
    const support = await detectSandbox();
    expect(support.available).toBe(false);
  });

  afterAll(() => {
    process.env.PATH = path;
    cleanup();
  });

  it('refuses before git runs a driver the candidate rewrote, naming it, and changes nothing', async () => {
    const repo = makeRepo({ 'tools/smudge.sh': SMUDGE, '.gitattributes': '*.dat filter=tool\n', 'a.dat': 'one\n' });
    sh(repo, ['config', 'filter.tool.smudge', 'sh tools/smudge.sh']);
    sh(repo, ['config', 'filter.tool.clean', 'cat']);
    const patch = patchOf(repo, { 'tools/smudge.sh': `#!/bin/sh\necho ran > '${marker}'\ncat\n`, 'b.dat': 'two\n' });
    const head = sh(repo, ['rev-parse', 'HEAD']).trim();
    const error = await applyToWorkingTree(repo, head, patch).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.Config);
    expect((error as AgentError).message).toMatch(/^Not done: the repository's git filter drivers filter\.tool\.smudge \(`sh tools\/smudge\.sh`\), filter\.tool\.clean \(`cat`\) run as git /);
    expect((error as AgentError).message).toMatch(/bubblewrap is not installed/);
    // Reading the tree through the drivers (what Undo and the panel's checks do) is refused the same way.
    await expect(changedSinceSnapshot(repo, head, changedFiles(patch))).rejects.toThrow(/^Not done: /);
    expect(existsSync(marker)).toBe(false);
    expect(sh(repo, ['status', '--porcelain'])).toBe('');
    expect(readFileSync(join(repo, 'tools/smudge.sh'), 'utf8')).toBe(SMUDGE);
  });

  it('applies as before where the only driver is Git LFS\'s own, none is configured, or none is named for the files it writes', async () => {
    const lfs = makeRepo({ 'app.py': 'x = 1\n' });
    sh(lfs, ['config', 'filter.lfs.smudge', 'git-lfs smudge -- %f']);
    sh(lfs, ['config', 'filter.lfs.process', 'git-lfs filter-process']);
    const plain = makeRepo({ 'app.py': 'x = 1\n' });
    // A driver configured for everything (nbstripout --global does so) that this repository's files never name.
    const unused = makeRepo({ 'app.py': 'x = 1\n', '.gitattributes': '*.ipynb filter=strip\n' });
    sh(unused, ['config', 'filter.strip.clean', 'sh tools/strip.sh']);
    for (const repo of [lfs, plain, unused]) {
      const patch = patchOf(repo, { 'app.py': 'x = 2\n' });
      expect(await applyToWorkingTree(repo, sh(repo, ['rev-parse', 'HEAD']).trim(), patch)).toEqual(['app.py']);
      expect(readFileSync(join(repo, 'app.py'), 'utf8')).toBe('x = 2\n');
    }
    // A patch that changes the attributes may name any driver for any file: refused.
    const attributes = patchOf(unused, { '.gitattributes': '*.py filter=strip\n', 'app.py': 'x = 3\n' });
    sh(unused, ['checkout', '-q', '--', 'app.py']);
    await expect(applyToWorkingTree(unused, sh(unused, ['rev-parse', 'HEAD']).trim(), attributes)).rejects.toThrow(/^Not done: the repository's git filter driver filter\.strip\.clean/);
  });
});

function execPath(program: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, program))) return join(dir, program);
  throw new Error(`no ${program} on PATH`);
}
