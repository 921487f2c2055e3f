import * as path from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { prepareCandidateTrees } from '../../../../src/core/verify/execution/candidateTrees.js';
import { issueBlocks, issueCodeBlocks } from '../../../../src/core/verify/execution/issueCode.js';
import { reproductionSignal } from '../../../../src/core/verify/execution/reproductionSignal.js';
import type { SignalValue } from '../../../../src/core/verify/signalTypes.js';
import { releaseSnapshot, snapshot } from '../../../../src/core/worktree/snapshot.js';
import { tempDir } from '../../../helpers/tempRepo.js';
import { fixtureRepo, patchOf } from './fixtureRepo.js';

const FENCE = '```';

describe('the code blocks of an issue', () => {
  it('keeps Python and unmarked fences and the input lines of sessions, in order, and leaves output out', () => {
    const issue = [
      'It crashes:', `${FENCE}python`, 'from shapes import area', 'area("hexagon", 2)', FENCE,
      `${FENCE}pytb`, 'Traceback (most recent call last):', 'KeyError: 1', FENCE,
      `${FENCE}sh`, 'pip install shapes', FENCE,
      'In a session:', '>>> x = area("square",', '...         2)', '>>> x', '4', '', 'and after it, prose.',
      '~~~', 'In [1]: describe("circle")', 'Out[1]: \'round\'', '   ...: ', '~~~',
      `  ${FENCE}pycon`, '  >>> for k in range(2):', '  ...     print(k)', '  0', '  1', `  ${FENCE}`,
    ].join('\r\n');
    expect(issueCodeBlocks(issue)).toEqual([
      'from shapes import area\narea("hexagon", 2)',
      'x = area("square",\n        2)\nx',
      'describe("circle")\n',
      'for k in range(2):\n    print(k)',
    ]);
    expect(issueCodeBlocks('No code here, only `page_count(3, 10)` inline.')).toEqual([]);
    expect(issueCodeBlocks(`Unclosed:\n${FENCE}python\nimport shapes\nshapes.area("hexagon", 1)\n`)).toEqual(['import shapes\nshapes.area("hexagon", 1)\n']);
  });
});

describe('what an issue shows its code printing', () => {
  it('takes a session\'s output lines and the unmarked or text fences after a Python block, pooled over blocks of the same code', () => {
    const issue = [
      'Describing a circle:', `${FENCE}python`, 'describe("circle")', FENCE,
      'used to print', FENCE, "'round'", FENCE, 'but now prints', `${FENCE}text`, "'0 sides'", FENCE,
      `${FENCE}sh`, 'pip install shapes', FENCE,
      '  >>> area("square", 2)', '  Out[1]: 8', '',
      'while it should be', '', '>>> area("square", 2)', '4', '',
      `${FENCE}python`, 'area("square", 3)', FENCE,
    ].join('\n');
    expect(issueBlocks(issue)).toEqual([
      { code: 'describe("circle")', shown: ["'round'", "'0 sides'"] },
      // The unmarked fence may be code too: it stays a block of its own, with nothing shown for it.
      { code: "'round'", shown: [] },
      { code: 'area("square", 2)', shown: ['8', '4'] },
      { code: 'area("square", 2)', shown: ['8', '4'] },
      { code: 'area("square", 3)', shown: [] },
    ]);
  });
});

describe('the issue\'s code as reproduction tests', () => {
  const SHAPES = 'SIDES = {"square": 4, "triangle": 3}\n\n\ndef area(kind, size):\n    return SIDES[kind] * size\n\n\ndef describe(kind):\n    return "%d sides" % SIDES[kind]\n';
  const ISSUE = [
    '`area("hexagon", 2)` fails:', `${FENCE}python`, 'from shapes import area', 'area("square", 2)', 'area("hexagon", 2)', FENCE,
    FENCE, 'Traceback (most recent call last):', '  File "<stdin>", line 3, in <module>', "KeyError: 'hexagon'", FENCE,
    'So does describing one, without any import:', '', '>>> describe("hexagon")', "KeyError: 'hexagon'", '',
    'I expected:', FENCE, 'Polygon(6)', FENCE,
    'My real code also uses:', `${FENCE}python`, 'import plotting_lib_not_installed', FENCE,
    'Squares are fine:', `${FENCE}python`, 'area("square", 3)', FENCE,
  ].join('\n');

  async function treesFor(context: TestContext, files: Record<string, string>, edits: Record<string, Record<string, string>>) {
    const repo = fixtureRepo(files);
    const work = tempDir();
    const snap = await snapshot(repo.dir);
    const candidates = Object.entries(edits).map(([id, edit]) => ({ id, patch: patchOf(repo.dir, edit) }));
    const trees = await prepareCandidateTrees(snap, candidates, { baseDir: path.join(work.dir, 'trees') });
    context.onTestFinished(repo.cleanup);
    context.onTestFinished(work.cleanup);
    context.onTestFinished(() => releaseSnapshot(snap));
    context.onTestFinished(() => trees.dispose());
    return { trees, candidates };
  }

  function ok(value: SignalValue | undefined) {
    if (value?.status !== 'ok') throw new Error(`expected an ok signal, got ${JSON.stringify(value)}`);
    return value;
  }

  it('a block that fails on the snapshot must pass with a fix; output, tracebacks and code that cannot run here are not reproductions', async (context) => {
    const script = 'from shapes import area\narea("hexagon", 1)\nprint("Script completed successfully, no errors.")\n';
    const { trees, candidates } = await treesFor(context, { 'shapes/__init__.py': SHAPES }, {
      fix: { 'shapes/__init__.py': SHAPES.replace('"triangle": 3', '"triangle": 3, "hexagon": 6') },
      wrong: { 'shapes/__init__.py': SHAPES.replace('"triangle": 3', '"triangle": 3, "pentagon": 5') },
      scriptOnly: { 'replicate_bug.py': script },
    });
    const result = await reproductionSignal(trees, candidates, { issue: ISSUE, timeoutMs: 30_000, concurrency: 2 });
    expect(result.tests.map((t) => [t.id, t.origin, t.authors])).toEqual([
      ['replicate_bug.py', 'patch', ['scriptOnly']],
      ...[1, 2, 3, 4, 5, 6].map((k) => [`issue code ${k}`, 'issue', []]),
    ]);
    expect(result.valid).toEqual(['replicate_bug.py', 'issue code 1', 'issue code 3']);
    expect(result.discarded).toEqual([
      { testId: 'issue code 2', kind: 'not-a-reproduction', reason: 'not a reproduction: not Python code' },
      { testId: 'issue code 4', kind: 'not-a-reproduction', reason: 'not a reproduction: uses Polygon, which the issue never defines' },
      { testId: 'issue code 5', kind: 'not-a-reproduction', reason: 'not a reproduction: needs plotting_lib_not_installed, which is not installed' },
      { testId: 'issue code 6', kind: 'passes', reason: 'passes on the snapshot, so it does not reproduce the issue' },
    ]);
    const [fix, wrong, scriptOnly] = ['fix', 'wrong', 'scriptOnly'].map((id) => ok(result.values.get(id)));
    expect([fix.score, fix.detail]).toEqual([3, 'passes 3/3 reproduction tests (1 more passed on the snapshot; 3 of the issue\'s code blocks are not reproductions)']);
    expect(fix.data?.origins).toEqual({ 'replicate_bug.py': 'patch', 'issue code 1': 'issue', 'issue code 3': 'issue' });
    expect([wrong.score, scriptOnly.score]).toEqual([0, 0]);
    expect(wrong.detail).toBe('passes 0/3 reproduction tests (1 more passed on the snapshot; 3 of the issue\'s code blocks are not reproductions); '
      + "3 fail as on the snapshot (exit 1: KeyError: 'hexagon')");
    // `describe` was never imported: it is found in the project's own package, as the reporter's session had it.
    const failed = wrong.data?.failed as { testId: string; why: string }[];
    expect(failed.map((f) => [f.testId, f.why])).toEqual([
      ['replicate_bug.py', "exit 1: KeyError: 'hexagon'"], ['issue code 1', "exit 1: KeyError: 'hexagon'"], ['issue code 3', "exit 1: KeyError: 'hexagon'"],
    ]);
  });

  it('a block whose issue shows two outputs reproduces a wrong value: it must print the other one with a fix', async (context) => {
    // The bug prints a wrong value and raises nothing; the issue shows what it prints and what it should.
    // Its package also writes to stderr on import, as a pyenv shim that cannot rehash does: the harness's own line still says why.
    const buggy = `import sys\nprint("shim: cannot rehash", file=sys.stderr)\n${SHAPES}`
      .replace('return SIDES[kind] * size', 'return SIDES[kind] * size if kind != "triangle" else 3 * size * size');
    const issue = [
      'The area of a triangle is wrong:', `${FENCE}python`, 'from shapes import area', 'area("triangle", 2)', FENCE,
      'prints', FENCE, '12', FENCE, 'but should print', FENCE, '6', FENCE,
      'and describing a hexagon fails, where it should say:', `${FENCE}python`, 'from shapes import describe', 'describe("hexagon")', FENCE,
      FENCE, "'6 sides'", FENCE, 'or perhaps', FENCE, "'hexagon'", FENCE,
    ].join('\n');
    const hexagon = (text: string) => text.replace('"triangle": 3', '"triangle": 3, "hexagon": 6');
    const { trees, candidates } = await treesFor(context, { 'shapes/__init__.py': buggy }, {
      fix: { 'shapes/__init__.py': hexagon(SHAPES) },
      other: { 'shapes/__init__.py': hexagon(buggy.replace('3 * size * size', '2 * size')) },
      none: { 'shapes/__init__.py': `${buggy}\n` },
    });
    const result = await reproductionSignal(trees, candidates, { issue, timeoutMs: 30_000, concurrency: 2 });
    // Blocks 2, 3, 5 and 6 are the shown outputs, which run as code too and pass.
    expect(result.valid).toEqual(['issue code 1', 'issue code 4']);
    const [fix, other, none] = ['fix', 'other', 'none'].map((id) => ok(result.values.get(id)));
    expect([fix.score, other.score, none.score]).toEqual([2, 1, 0]);
    // The hexagon block failed by an exception on the snapshot: it passes when it runs cleanly, whatever it prints.
    expect((other.data?.failed as { testId: string; why: string }[])).toEqual([
      { testId: 'issue code 1', why: 'exit 1: entropo: prints "4", which the issue does not show' },
    ]);
    expect(none.detail).toContain('2 fail as on the snapshot');
    expect((none.data?.failed as { testId: string; why: string }[]).map((f) => f.why)).toEqual([
      'exit 1: entropo: prints "12", one of the 2 outputs the issue shows, as on the snapshot', "exit 1: KeyError: 'hexagon'",
    ]);
  });

  it('a block that should raise: the exception the issue shows as expected is a pass with a fix, any other still fails', async (context) => {
    const issue = ['A negative size gives an area instead of an error:', `${FENCE}python`, 'from shapes import area', 'area("square", -2)', FENCE,
      'prints', FENCE, '-8', FENCE, 'but should raise', FENCE, 'Traceback (most recent call last):', '  ...', 'ValueError: size must be positive', FENCE].join('\n');
    const guard = (error: string) => SHAPES.replace('return SIDES[kind] * size', `if size < 0:\n        raise ${error}("size must be positive")\n    return SIDES[kind] * size`);
    const { trees, candidates } = await treesFor(context, { 'shapes/__init__.py': SHAPES }, {
      fix: { 'shapes/__init__.py': guard('ValueError') }, other: { 'shapes/__init__.py': guard('TypeError') },
      // The right type, but some other failure than the one the issue expects.
      unrelated: { 'shapes/__init__.py': SHAPES.replace('return SIDES[kind] * size', 'return int("x" * -size)') },
    });
    const result = await reproductionSignal(trees, candidates, { issue, timeoutMs: 30_000, concurrency: 2 });
    expect(result.valid).toEqual(['issue code 1']);
    const [fix, other, unrelated] = ['fix', 'other', 'unrelated'].map((id) => ok(result.values.get(id)));
    expect([fix.score, other.score, unrelated.score]).toEqual([1, 0, 0]);
    expect((other.data?.failed as { why: string }[]).map((f) => f.why)).toEqual(['exit 1: TypeError: size must be positive']);
    expect((unrelated.data?.failed as { why: string }[]).map((f) => f.why)).toEqual(["exit 1: ValueError: invalid literal for int() with base 10: 'xx'"]);
  });

  it('finds the package of a src layout, for imports and for the names the issue never imports', async (context) => {
    const issue = `${FENCE}python\nimport shapes\nshapes.area("hexagon", 2)\n${FENCE}\n\n>>> describe("hexagon")\n`;
    const { trees, candidates } = await treesFor(context, { 'src/shapes/__init__.py': SHAPES }, {
      fix: { 'src/shapes/__init__.py': SHAPES.replace('"triangle": 3', '"triangle": 3, "hexagon": 6') },
    });
    const result = await reproductionSignal(trees, candidates, { issue, timeoutMs: 30_000 });
    expect([result.valid, result.discarded]).toEqual([['issue code 1', 'issue code 2'], []]);
    expect(ok(result.values.get('fix')).detail).toBe('passes 2/2 reproduction tests');
  });

  it('says which blocks it ran and why none counts when no block fails on the snapshot', async (context) => {
    const issue = `${FENCE}python\nfrom shapes import area\narea("square", 1)\n${FENCE}\n${FENCE}\n4\nSquare(1)\n${FENCE}\n`;
    const { trees, candidates } = await treesFor(context, { 'shapes/__init__.py': SHAPES }, { a: { 'shapes/__init__.py': `${SHAPES}\n` } });
    const result = await reproductionSignal(trees, candidates, { issue, timeoutMs: 30_000 });
    expect(result.values.get('a')).toEqual({
      status: 'unavailable',
      reason: 'none of the 2 reproduction script(s) reproduces the issue on the snapshot (issue code 1: passes on the snapshot, so it does not '
        + 'reproduce the issue; issue code 2: not a reproduction: uses Square, which the issue never defines)',
    });
  });

  it('runs no issue code in a project that is not Python, and says why nothing was found', async (context) => {
    const { trees, candidates } = await treesFor(context, { 'index.js': 'module.exports = 1;\n' }, { a: { 'index.js': 'module.exports = 2;\n' } });
    const result = await reproductionSignal(trees, candidates, { issue: ISSUE, timeoutMs: 30_000 });
    expect(result.tests).toEqual([]);
    expect(result.values.get('a')).toEqual({
      status: 'unavailable',
      reason: expect.stringMatching(/^no trajectories were given, no patch adds one \(a file named reproduce\*, .*\), and the project is not Python, whose issues' code alone is run$/),
    });
  });
});
