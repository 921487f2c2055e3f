import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { search } from '../../../src/core/tools/search.js';
import { git, tempDir } from '../../helpers/tempRepo.js';
import { toolContext } from '../../helpers/toolContext.js';

describe('search', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  function setup() {
    const t = tempDir();
    cleanups.push(t.cleanup);
    git(t.dir, 'init', '-q');
    mkdirSync(path.join(t.dir, 'src'));
    mkdirSync(path.join(t.dir, 'build'));
    writeFileSync(path.join(t.dir, '.gitignore'), 'build/\n');
    writeFileSync(path.join(t.dir, 'src', 'a.py'), 'def page_count():\n    return page_count\n');
    writeFileSync(path.join(t.dir, 'src', 'b.py'), 'page_count(1)\n');
    writeFileSync(path.join(t.dir, 'build', 'gen.py'), 'page_count\n');
    git(t.dir, 'add', 'src/a.py');
    return toolContext(t.dir);
  }

  it('counts matches per file in a directory, untracked files included, ignored files skipped', async () => {
    const ctx = setup();
    const { observation } = await search.run({ search_term: 'page_count' }, ctx);
    expect(observation).toContain('Found 3 matches for "page_count" in 2 files');
    expect(observation).toContain('./src/a.py (2 matches)');
    expect(observation).toContain('./src/b.py (1 matches)');
    expect(observation).not.toContain('gen.py');
  });

  it('lists matching lines of a file, and treats the term literally', async () => {
    const ctx = setup();
    const { observation } = await search.run({ search_term: 'page_count(', path: 'src/b.py' }, ctx);
    expect(observation).toContain('1:page_count(1)');
    expect((await search.run({ search_term: 'nothing.here' }, ctx)).observation).toMatch(/No matches found/);
  });

  it('caps the listing at 100 files', async () => {
    const ctx = setup();
    for (let i = 0; i < 120; i++) writeFileSync(path.join(ctx.workspace.root, 'src', `m${i}.py`), 'needle\n');
    const { observation } = await search.run({ search_term: 'needle', path: 'src' }, ctx);
    expect(observation).toContain('in 120 files');
    expect(observation.match(/\(1 matches\)/g)).toHaveLength(100);
    expect(observation).toContain('20 more files not shown');
  });
});
