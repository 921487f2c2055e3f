import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agreementSignals } from '../../../src/core/verify/agreement.js';
import { finishedSignal } from '../../../src/core/verify/finished.js';
import { syntaxSignal } from '../../../src/core/verify/syntax.js';
import { select } from '../../../src/core/verify/select.js';
import { escapingSymlinks, validitySignal } from '../../../src/core/verify/validity.js';
import { verifyCandidates } from '../../../src/core/verify/verifyCandidates.js';
import { trackedLinks } from '../../../src/core/worktree/candidateTree.js';
import { git, tempDir } from '../../helpers/tempRepo.js';

const diff = (file: string, minus: string, plus: string) =>
  `diff --git a/${file} b/${file}\nindex 1111111..2222222 100644\n--- a/${file}\n+++ b/${file}\n@@ -1,3 +1,3 @@\n def f(total, per_page):\n-${minus}\n+${plus}\n`;

describe('finished', () => {
  it('scores 1 only for a submitted run, and reads finish calls from a bare trajectory', () => {
    expect(finishedSignal({ id: 'a', patch: '', exitReason: 'submitted' })).toMatchObject({ status: 'ok', score: 1 });
    expect(finishedSignal({ id: 'a', patch: '', exitReason: 'limits_exceeded' })).toMatchObject({ score: 0, detail: 'did not finish (limits exceeded)' });
    expect(finishedSignal({ id: 'a', patch: '', messages: [{ role: 'assistant', content: 'x\n<function=finish>\n<parameter=command>submit</parameter>\n</function>' }] })).toMatchObject({ score: 1 });
    expect(finishedSignal({ id: 'a', patch: '', messages: [{ role: 'assistant', content: 'thinking' }] })).toMatchObject({ score: 0 });
    expect(finishedSignal({ id: 'a', patch: '' })).toEqual({ status: 'unavailable', reason: 'no trajectory given' });
  });
});

describe('validity', () => {
  it('rejects empty, test-only and scratch-only patches and patches that do not apply', () => {
    expect(validitySignal({ id: 'a', patch: '' })).toMatchObject({ score: 0, detail: 'empty patch' });
    expect(validitySignal({ id: 'a', patch: diff('tests/test_core.py', 'a', 'b') })).toMatchObject({ score: 0, detail: expect.stringMatching(/only touches tests/) });
    expect(validitySignal({ id: 'a', patch: diff('src/app.test.ts', 'a', 'b') })).toMatchObject({ score: 0 });
    expect(validitySignal({ id: 'a', patch: diff('reproduce_issue.py', 'a', 'b') })).toMatchObject({ score: 0 });
    expect(validitySignal({ id: 'a', patch: diff('pager/core.py', 'a', 'b') }, 'error: patch failed: pager/core.py:1')).toMatchObject({ score: 0, detail: 'does not apply: error: patch failed: pager/core.py:1' });
    expect(validitySignal({ id: 'a', patch: diff('pager/core.py', 'a', 'b') }, true)).toMatchObject({ score: 1, detail: '1 file(s), applies to the snapshot' });
    expect(validitySignal({ id: 'a', patch: diff('pager/core.py', 'a', 'b') })).toMatchObject({ score: 1, detail: '1 file(s), not checked against a checkout' });
  });
});

describe('symbolic links in a patch', () => {
  it('are followed as the kernel follows them: a chain through the patch\'s own links or the repository\'s, a changed target, a loop', async () => {
    const repo = tempDir();
    try {
      mkdirSync(path.join(repo.dir, 'sub'));
      writeFileSync(path.join(repo.dir, 'a.py'), 'x = 1\n');
      symlinkSync('sub', path.join(repo.dir, 'old'));
      git(repo.dir, 'init', '-q');
      git(repo.dir, 'add', '-A');
      git(repo.dir, 'commit', '-q', '-m', 'base');
      // Names git quotes in a patch (`+++ "b/caf\303\251"`) are read as any other.
      const links: Record<string, string> = { q: '.', p: 'q/..', 'sub/deep': '../p/etc', fine: 'sub/../a.py', here: 'q/q/a.py', loop1: 'loop2', loop2: 'loop1',
        'café': '/etc', 'tab\tname': '../..' };
      for (const [link, target] of Object.entries(links)) symlinkSync(target, path.join(repo.dir, link));
      rmSync(path.join(repo.dir, 'old'));
      symlinkSync('/etc', path.join(repo.dir, 'old'));
      writeFileSync(path.join(repo.dir, 'a.py'), 'x = 2\n');
      git(repo.dir, 'add', '-A');
      const patch = git(repo.dir, 'diff', '--cached', '--binary');
      const escapes = escapingSymlinks(patch);
      expect(escapes.map((l) => `${l.path} -> ${l.target}`).sort()).toEqual(['café -> /etc', 'loop1 -> loop2', 'loop2 -> loop1', 'old -> /etc', 'p -> q/..', 'sub/deep -> ../p/etc', 'tab\tname -> ../..']);
      expect(validitySignal({ id: 'a', patch })).toMatchObject({ score: 0, detail: expect.stringMatching(/^adds symbolic links that point outside the repository: /) });
      // Through a link the repository already has: `base -> .` committed, then a patch's `up -> base/..`.
      git(repo.dir, 'reset', '-q', '--hard');
      git(repo.dir, 'clean', '-qfd');
      symlinkSync('.', path.join(repo.dir, 'base'));
      symlinkSync('/usr', path.join(repo.dir, 'theirs'));
      git(repo.dir, 'add', '-A');
      git(repo.dir, 'commit', '-q', '-m', 'links');
      symlinkSync('base/..', path.join(repo.dir, 'up'));
      git(repo.dir, 'add', '-A');
      const through = git(repo.dir, 'diff', '--cached', '--binary');
      expect(escapingSymlinks(through)).toEqual([]);
      const tracked = await trackedLinks(repo.dir, 'HEAD');
      expect(Object.fromEntries(tracked)).toEqual({ base: '.', old: 'sub', theirs: '/usr' });
      // Only the patch's own links are the candidate's: the user's `theirs -> /usr` is not held against it.
      expect(escapingSymlinks(through, tracked)).toEqual([{ path: 'up', target: 'base/..' }]);
    } finally {
      repo.cleanup();
    }
  });
});

describe('a candidate that only adds a script', () => {
  const added = (file: string) => `diff --git a/${file} b/${file}\nnew file mode 100644\nindex 0000000..2222222\n--- /dev/null\n+++ b/${file}\n@@ -0,0 +1 @@\n+print(1)\n`;

  it('is invalid, and never the pick over one that changes source, whatever else speaks for it', async () => {
    expect(validitySignal({ id: 'a', patch: added('bug_reproduction.py') })).toMatchObject({ score: 0, detail: 'only adds new files (bug_reproduction.py); changes no existing file' });
    const fix = diff('pager/core.py', '    return total // per_page', '    return (total + per_page - 1) // per_page');
    // Three identical scripts outvote the single source change on agreement; validity still decides.
    const candidates = [
      { id: 's1', patch: added('replicate_issue.py') }, { id: 's2', patch: added('replicate_issue.py') },
      { id: 's3', patch: added('replicate_issue.py') + added('notes.txt') }, { id: 'fix', patch: fix },
    ];
    const signals = await verifyCandidates(candidates, {});
    expect(signals.find((s) => s.candidateId === 's1')?.signals.agreement).toMatchObject({ score: 2 });
    for (const mode of ['entropo', 'r2e'] as const) {
      const ranking = select(signals, { mode });
      expect(ranking.order[0]).toBe('fix');
      expect(ranking.explanations.s1).toMatch(/^unfit \(only adds new files \(replicate_issue\.py\); changes no existing file\)/);
    }
  });
});

describe('agreement', () => {
  it('clusters patches equal up to whitespace and comments, and counts votes', async () => {
    const signals = await agreementSignals([
      { id: 'r0', patch: diff('pager/core.py', '    return total // per_page', '    return (total + per_page - 1) // per_page') },
      { id: 'r1', patch: diff('pager/core.py', '    return total // per_page', '    return (total+per_page-1)//per_page  # round up') },
      { id: 'r2', patch: diff('pager/core.py', '    return total // per_page', '    return math.ceil(total / per_page)') },
      { id: 'r3', patch: '' },
      { id: 'r4', patch: diff('pager/other.py', '    return total // per_page', '    return (total + per_page - 1) // per_page') },
    ]);
    expect(signals.get('r0')).toMatchObject({ score: 2, detail: '2 agree (r0, r1)' });
    expect(signals.get('r1')).toMatchObject({ score: 2 });
    expect(signals.get('r2')).toMatchObject({ score: 1, detail: 'unique patch' });
    expect(signals.get('r3')).toMatchObject({ score: 0, detail: 'empty patch, no vote' });
    expect(signals.get('r4')).toMatchObject({ score: 1 });
  });
});

describe('agreement on huge patches', () => {
  it('compares multi-megabyte patches by their normalized text', async () => {
    const body = Array.from({ length: 40_000 }, (_, i) => `+line_${i} = ${i}`).join('\n');
    const huge = `diff --git a/big.py b/big.py\nnew file mode 100644\n--- /dev/null\n+++ b/big.py\n@@ -0,0 +1,40000 @@\n${body}\n`;
    const signals = await agreementSignals([{ id: 'a', patch: huge }, { id: 'b', patch: huge.replace(/ = /g, '  =  ') }, { id: 'c', patch: huge.replace('line_7 ', 'line_8 ') }]);
    expect(huge.length).toBeGreaterThan(500_000);
    expect(signals.get('a')).toMatchObject({ score: 2, detail: '2 agree (a, b)' });
    expect(signals.get('c')).toMatchObject({ score: 1 });
  });
});

describe('syntax', () => {
  it('counts only new syntax errors in changed files', async () => {
    const before = 'def f(x):\n    return x\n';
    expect(await syntaxSignal([{ path: 'a.py', before, after: 'def f(x):\n    return x + 1\n' }])).toMatchObject({ score: 0 });
    const broken = await syntaxSignal([{ path: 'a.py', before, after: 'def f(x):\n    return (x + 1\n' }]);
    expect(broken.status === 'ok' && broken.score).toBeLessThan(0);
    expect(broken.status === 'ok' && broken.detail).toMatch(/new syntax error\(s\): a\.py:\d/);
    const preExisting = 'def f(x:\n    return x\n';
    expect(await syntaxSignal([{ path: 'a.py', before: preExisting, after: `${preExisting}\ndef g():\n    return 1\n` }])).toMatchObject({ score: 0 });
    expect(await syntaxSignal([{ path: 'notes.xyz', before: 'a', after: 'b' }])).toMatchObject({ status: 'unavailable' });
  });
});
