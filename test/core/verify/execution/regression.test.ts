import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import type { SignalValue } from '../../../../src/core/verify/signalTypes.js';
import { prepareCandidateTrees } from '../../../../src/core/verify/execution/candidateTrees.js';
import { compare, regressionSignal } from '../../../../src/core/verify/execution/regressionSignal.js';
import { releaseSnapshot, snapshot } from '../../../../src/core/worktree/snapshot.js';
import { git, PROJECT_ROOT, tempDir } from '../../../helpers/tempRepo.js';
import { fixtureRepo, patchOf, pytestWorks } from './fixtureRepo.js';
import { missingTool } from '../../../helpers/toolchain.js';

const CALC = `def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n\n\ndef div(a, b):\n    return a / b\n\n\ndef neg(a):\n    return -a\n`;
const CALC_TESTS = `import unittest\n\nfrom calc import add, div, mul, neg, sub\n\n\nclass CalcTest(unittest.TestCase):
    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n
    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n
    def test_mul(self):\n        self.assertEqual(mul(4, 3), 12)\n
    def test_div(self):\n        self.assertEqual(div(8, 2), 4)\n
    def test_neg(self):\n        self.assertEqual(neg(2), -2)\n`;


// The runs mostly wait on subprocesses, so the cases run concurrently; each cleans up after itself.
describe.concurrent('regressionSignal', () => {
  /** A repository of `files`, removed after the test. */
  function repoOf(context: TestContext, files: Record<string, string>): string {
    const repo = fixtureRepo(files);
    context.onTestFinished(repo.cleanup);
    return repo.dir;
  }

  /** A snapshot of `repo` with one worktree per candidate patch; everything is removed after the test. */
  async function setup(context: TestContext, repo: string, patches: Record<string, string>) {
    const work = tempDir();
    const snap = await snapshot(repo);
    const baseDir = path.join(work.dir, 'trees');
    const trees = await prepareCandidateTrees(snap, Object.entries(patches).map(([id, patch]) => ({ id, patch })), { baseDir });
    // Finished hooks run in reverse order of registration: worktrees first, then the snapshot, then the folder.
    context.onTestFinished(work.cleanup);
    context.onTestFinished(() => releaseSnapshot(snap));
    context.onTestFinished(() => trees.dispose());
    return { trees, baseDir, ids: Object.keys(patches) };
  }

  function ok(value: SignalValue | undefined) {
    if (value?.status !== 'ok') throw new Error(`expected an ok signal, got ${JSON.stringify(value)}`);
    return value;
  }

  it('names the tests a candidate breaks, reports an unapplicable patch, and kills a hanging run without scoring it', async (context) => {
    const repo = repoOf(context, { 'calc.py': CALC, 'tests/__init__.py': '', 'tests/test_calc.py': CALC_TESTS });
    const patches = {
      A: patchOf(repo, { 'calc.py': CALC.replace('return a * b', 'return a + b').replace('return a / b', 'return a // b + 1') }),
      B: patchOf(repo, { 'calc.py': CALC.replace('def neg(a):\n', 'def neg(a):\n    """Negate."""\n') }),
      C: patchOf(repo, { 'calc.py': CALC.replace('return a - b', 'return b - a') }).replace(/return a - b/g, 'return a - b  # drifted'),
      D: patchOf(repo, { 'calc.py': CALC.replace('    return a + b\n', '    while True:\n        pass\n') }),
    };
    const { trees, ids } = await setup(context, repo, patches);
    expect(trees.byCandidate.get('C')).toBeInstanceOf(Error);
    const started = Date.now();
    const result = await regressionSignal(trees, ids, { command: { command: 'python3 -m unittest -v', format: 'unittest' }, timeoutMs: 5000, concurrency: 2 });
    const elapsed = Date.now() - started;

    expect(result.test?.kind).toBe('configured');
    expect(result.baseline?.perTest).toBe(true);
    expect([...result.baseline!.results.values()].filter((s) => s === 'passed')).toHaveLength(5);
    const a = ok(result.values.get('A'));
    expect(a.score).toBe(-2);
    expect(a.detail).toBe('breaks 2 of 5 passing tests: test_div, test_mul');
    expect(a.data?.broken).toEqual(['tests.test_calc.CalcTest.test_div', 'tests.test_calc.CalcTest.test_mul']);
    const b = ok(result.values.get('B'));
    expect([b.score, b.detail]).toEqual([0, '5/5 tests that passed before still pass']);
    const c = result.values.get('C');
    expect(c?.status).toBe('unavailable');
    expect(c?.status === 'unavailable' && c.reason).toMatch(/^The patch does not apply to calc\.py/);
    // A run killed at its time limit says nothing about which tests break: no score, the reason instead.
    expect(result.values.get('D')).toEqual({ status: 'unavailable', reason: 'the test run was killed at its time limit of 5 s (raise the test timeout)' });
    // The hang costs one timeout, not the test's.
    expect(elapsed).toBeLessThan(20_000);
  });

  it('gives no score when a run cannot be read per test: a -q summary, a cut log; names why', async (context) => {
    const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
    const full = fixture('pytest-rA.txt');
    // The "test command" prints a captured pytest log kept in the checkout, so each candidate decides what it prints.
    const repo = repoOf(context, { 'log.txt': full, 'calc.py': CALC });
    const { trees, ids } = await setup(context, repo, {
      quiet: patchOf(repo, { 'log.txt': fixture('pytest-q.txt') }),
      cut: patchOf(repo, { 'log.txt': full.slice(0, full.indexOf('FAILED tests/test_mix.py::test_fail')) }),
      same: patchOf(repo, { 'calc.py': CALC.replace('def neg(a):\n', 'def neg(a):\n    """Negate."""\n') }),
    });
    const command = { command: 'cat log.txt', format: 'pytest' as const };
    const result = await regressionSignal(trees, ids, { command, timeoutMs: 20_000 });
    expect(result.values.get('quiet')).toEqual({ status: 'unavailable',
      reason: 'the test run with this candidate cannot be read per test: pytest counts 1 passed but names 0 of them (run it with -rA to print every outcome)' });
    const cut = result.values.get('cut');
    expect(cut?.status === 'unavailable' && cut.reason).toMatch(/^the test run with this candidate cannot be read per test: the output ends before pytest's final summary line/);
    expect(ok(result.values.get('same')).detail).toBe('4/4 tests that passed before still pass');
    // The same -q log on the snapshot makes every candidate unavailable, with the reason.
    const quietRepo = repoOf(context, { 'log.txt': fixture('pytest-q.txt'), 'calc.py': CALC });
    const quiet = await setup(context, quietRepo, { A: patchOf(quietRepo, { 'calc.py': CALC.replace('a + b', 'b + a') }) });
    const onSnapshot = await regressionSignal(quiet.trees, quiet.ids, { command, timeoutMs: 20_000 });
    expect(onSnapshot.values.get('A')).toEqual({ status: 'unavailable',
      reason: 'the run of `cat log.txt` on the snapshot cannot be read per test: pytest counts 1 passed but names 0 of them (run it with -rA to print every outcome)' });
  });

  it('re-runs a newly failing test alone and reports a flake as one; an expected failure that now errors is no regression', async (context) => {
    const tests = CALC_TESTS.replace('    def test_neg(self):', '    @unittest.expectedFailure\n    def test_known(self):\n        self.assertEqual(neg(1), 1)\n\n    def test_neg(self):');
    const repo = repoOf(context, { 'calc.py': CALC, 'tests/__init__.py': '', 'tests/test_calc.py': tests });
    // add() fails the first time it runs in a checkout, then works: a flake of the kind a loaded machine makes.
    const flaky = CALC.replace('def add(a, b):\n    return a + b', [
      'def add(a, b):', '    import os', "    if not os.path.exists('.flaked'):", "        open('.flaked', 'w').close()", '        return 0', '    return a + b',
    ].join('\n'));
    const { trees, ids } = await setup(context, repo, {
      flaky: patchOf(repo, { 'calc.py': flaky }),
      broken: patchOf(repo, { 'calc.py': CALC.replace('return a * b', 'return a + b').replace('return -a', 'raise ValueError(a)') }),
    });
    const result = await regressionSignal(trees, ids, { command: 'python3 -m unittest', timeoutMs: 20_000 });
    // The configured command got -v, so that unittest names each test.
    expect(result.test?.command).toBe('python3 -m unittest -v');
    expect(result.baseline?.results.get('tests.test_calc.CalcTest.test_known')).toBe('xfailed');
    const f = ok(result.values.get('flaky'));
    expect([f.score, f.detail]).toEqual([0, '5/5 tests that passed before still pass; 1 flaky (failed, then passed when run alone): test_add']);
    expect(f.data?.flaky).toEqual(['tests.test_calc.CalcTest.test_add']);
    const b = ok(result.values.get('broken'));
    expect(b.data?.broken).toEqual(['tests.test_calc.CalcTest.test_mul', 'tests.test_calc.CalcTest.test_neg']);
    expect([b.score, b.data?.flaky]).toEqual([-2, []]);
  });

  it('fails the baseline honestly: a command that fails on the snapshot, and no command at all', async (context) => {
    const repo = repoOf(context, { 'calc.py': CALC, 'README.md': '# calc\n' });
    const { trees, ids } = await setup(context, repo, { A: patchOf(repo, { 'calc.py': CALC.replace('a + b', 'b + a') }) });
    const none = await regressionSignal(trees, ids);
    expect(none.values.get('A')).toEqual({ status: 'unavailable', reason: 'no test command found (configure one)' });
    expect(none.baseline).toBeUndefined();
    const missing = await regressionSignal(trees, ids, { command: 'python3 -m no_such_test_module_xyz', timeoutMs: 20_000 });
    const value = missing.values.get('A');
    expect(value?.status).toBe('unavailable');
    expect(value?.status === 'unavailable' && value.reason).toMatch(
      /^`python3 -m no_such_test_module_xyz` fails on the snapshot itself \(exit 1\), so it cannot tell what a patch breaks: .*No module named no_such_test_module_xyz/);
    // The last line quoted is text, not a terminal's colour codes.
    const coloured = await regressionSignal(trees, ids, { command: "printf '\\033[31mboom\\033[0m\\n\\033[0m\\n'; exit 3", timeoutMs: 20_000 });
    expect(coloured.values.get('A')).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/exit 3\), so it cannot tell what a patch breaks: boom$/) });
  });

  it('says what a detected command was chosen from when it fails on the snapshot: pytest configured but not installed', async (context) => {
    // The project's own Python, without pytest (-S: no site-packages).
    const repo = repoOf(context, { '.gitignore': '.venv/\n', 'calc.py': CALC, 'pytest.ini': '[pytest]\n', 'tests/test_calc.py': 'from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n' });
    mkdirSync(path.join(repo, '.venv', 'bin'), { recursive: true });
    writeFileSync(path.join(repo, '.venv', 'bin', 'python'), '#!/bin/sh\nexec python3 -S "$@"\n', { mode: 0o755 });
    const { trees, ids } = await setup(context, repo, { A: patchOf(repo, { 'calc.py': CALC.replace('a + b', 'b + a') }) });
    const result = await regressionSignal(trees, ids, { timeoutMs: 20_000 });
    expect(result.test?.command).toBe('.venv/bin/python -m unittest -v');
    expect(result.values.get('A')).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/ \(the command was chosen from: pytest\.ini but pytest is not installed\)$/) });
  });

  it('reads pytest\'s exit 5 as a snapshot without tests, not as a failing one', async (context) => {
    if (!pytestWorks) context.skip('python3 -m pytest is not installed here');
    const repo = repoOf(context, { 'calc.py': CALC, 'pytest.ini': '[pytest]\ntestpaths = tests\n', 'tests/helpers.py': 'X = 1\n' });
    const { trees, ids } = await setup(context, repo, { A: patchOf(repo, { 'calc.py': CALC.replace('a + b', 'b + a') }) });
    const result = await regressionSignal(trees, ids, { timeoutMs: 60_000 });
    expect(result.values.get('A')).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/^`.* -m pytest .*` collected no tests on the snapshot \(pytest's exit 5\), so none can break: .*no tests ran.* \(the command was chosen from: pytest\.ini\)$/) });
  });

  it('runs pytest with per-test ids from its JUnit report', async (context) => {
    if (!pytestWorks) context.skip('python3 -m pytest is not installed here');
    const tests = 'from calc import add, mul\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n\n\nclass TestMore:\n    def test_both(self):\n        assert add(mul(3, 2), 1) == 7\n';
    const repo = repoOf(context, { 'calc.py': CALC, 'pytest.ini': '[pytest]\n', 'tests/test_calc.py': tests });
    const { trees, ids } = await setup(context, repo, { A: patchOf(repo, { 'calc.py': CALC.replace('return a * b', 'return a ** b') }) });
    const result = await regressionSignal(trees, ids, { timeoutMs: 60_000 });
    expect(result.test?.kind).toBe('pytest');
    expect(result.test?.reason).toBe('pytest.ini');
    expect([...result.baseline!.results.keys()].sort()).toEqual(['tests/test_calc.py::TestMore::test_both', 'tests/test_calc.py::test_add', 'tests/test_calc.py::test_mul']);
    const a = ok(result.values.get('A'));
    expect([a.score, a.detail]).toEqual([-2, 'breaks 2 of 3 passing tests: test_both, test_mul']);
    // The report went to a temporary file outside the checkout, and pytest left no cache in it.
    expect(readdirSync(trees.baseline).sort()).toEqual(['.git', 'calc.py', 'pytest.ini', 'tests']);
  });

  it('runs node --test with TAP through package.json, using the user\'s installed node_modules', async (context) => {
    const repo = repoOf(context, {
      '.gitignore': 'node_modules/\n',
      'package.json': JSON.stringify({ name: 'm', scripts: { test: 'node --test' } }),
      'lib.js': 'const pad = require("padder");\nexports.label = (n) => pad(String(n), 3);\nexports.twice = (n) => n * 2;\n',
      'test/lib.test.js': [
        "const test = require('node:test');", "const assert = require('node:assert');", "const lib = require('../lib.js');",
        "test.describe('lib', () => {", "  test.it('labels', () => assert.equal(lib.label(7), '007'));",
        "  test.it('doubles', () => assert.equal(lib.twice(2), 4));", '});', "test('standalone', () => assert.ok(true));", '',
      ].join('\n'),
    });
    // Installed dependencies are ignored by git, so only the user's tree has them.
    mkdirSync(path.join(repo, 'node_modules', 'padder'), { recursive: true });
    writeFileSync(path.join(repo, 'node_modules', 'padder', 'index.js'), 'module.exports = (s, n) => s.padStart(n, "0");\n');
    const { trees, ids } = await setup(context, repo, { A: patchOf(repo, { 'lib.js': 'const pad = require("padder");\nexports.label = (n) => pad(String(n), 3);\nexports.twice = (n) => n * 3;\n' }) });
    const result = await regressionSignal(trees, ids, { timeoutMs: 60_000 });
    expect(result.test).toMatchObject({ kind: 'node', format: 'tap' });
    expect(Object.fromEntries(result.baseline!.results)).toEqual({ 'lib > labels': 'passed', 'lib > doubles': 'passed', standalone: 'passed' });
    expect(ok(result.values.get('A')).detail).toBe('breaks 1 of 3 passing tests: doubles');
    await trees.dispose();
    expect(existsSync(path.join(repo, 'node_modules', 'padder', 'index.js'))).toBe(true);
    expect(git(repo, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
  });

  it('tests a workspace package of a monorepo as the candidate changed it, not as installed in the user\'s node_modules', async (context) => {
    const lib = 'const dep = require("dep");\nexports.twice = (n) => dep.times(n, 2);\n';
    const util = 'exports.inc = (n) => n + 1;\n';
    const repo = repoOf(context, {
      '.gitignore': 'node_modules/\n',
      'package.json': JSON.stringify({ name: 'mono', private: true, workspaces: ['packages/*'], scripts: { test: 'node --test' } }),
      'packages/lib/package.json': JSON.stringify({ name: 'lib', main: 'index.js' }), 'packages/lib/index.js': lib,
      'packages/util/package.json': JSON.stringify({ name: '@acme/util', main: 'index.js' }), 'packages/util/index.js': util,
      'test/mono.test.js': ["const test = require('node:test');", "const assert = require('node:assert');",
        "test('twice', () => assert.equal(require('lib').twice(2), 4));", "test('inc', () => assert.equal(require('@acme/util').inc(1), 2));",
        "test('pad', () => assert.equal(require('padder')('7', 3), '007'));", ''].join('\n'),
    });
    // What npm install makes of the workspaces: links into the checkout, beside an ordinary package.
    mkdirSync(path.join(repo, 'node_modules', '@acme'), { recursive: true });
    symlinkSync('../packages/lib', path.join(repo, 'node_modules', 'lib'));
    symlinkSync('../../packages/util', path.join(repo, 'node_modules', '@acme', 'util'));
    // pnpm keeps a workspace package's own dependencies in its own node_modules.
    mkdirSync(path.join(repo, 'packages', 'lib', 'node_modules', 'dep'), { recursive: true });
    writeFileSync(path.join(repo, 'packages', 'lib', 'node_modules', 'dep', 'index.js'), 'exports.times = (a, b) => a * b;\n');
    mkdirSync(path.join(repo, 'node_modules', 'padder'));
    writeFileSync(path.join(repo, 'node_modules', 'padder', 'index.js'), 'module.exports = (s, n) => s.padStart(n, "0");\n');
    const { trees, ids } = await setup(context, repo, {
      A: patchOf(repo, { 'packages/lib/index.js': lib.replace('dep.times(n, 2)', 'dep.times(n, 3)') }),
      B: patchOf(repo, { 'packages/util/index.js': util.replace('n + 1', 'n - 1') }),
    });
    const result = await regressionSignal(trees, ids, { timeoutMs: 60_000 });
    expect(Object.fromEntries(result.baseline!.results)).toEqual({ twice: 'passed', inc: 'passed', pad: 'passed' });
    expect(ok(result.values.get('A')).detail).toBe('breaks 1 of 3 passing tests: twice');
    expect(ok(result.values.get('B')).detail).toBe('breaks 1 of 3 passing tests: inc');
  });

  it.for([
    ['jest', 'jest', 'jest-json', 'test/calc.test.js > calc > adds', 'adds zero'],
    ['vitest', 'vitest run', 'junit', 'test/calc.test.js.calc > adds', 'adds zero'],
    // Mocha's TAP names a test by its full title, words apart.
    ['mocha', 'mocha', 'tap', 'calc adds', 'calc adds zero'],
  ] as const)('reads every test of an npm script that runs %s, through the flags npm passes it', async ([runner, script, format, firstId, shown], context) => {
    if (!existsSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', runner))) context.skip(`needs ${runner} in this project's node_modules (npm ci)`);
    const esm = runner === 'vitest';
    const calc = esm ? 'export const add = (a, b) => a + b;\n' : 'exports.add = (a, b) => a + b;\n';
    const tests = [esm ? "import { describe, it, expect } from 'vitest';\nimport { add } from '../calc.js';" : "const { add } = require('../calc.js');",
      `const same = (a, b) => { if (a !== b) throw new Error(\`\${a} is not \${b}\`); };`,
      "describe('calc', () => {", "  it('adds', () => same(add(1, 2), 3));", "  it('adds zero', () => same(add(0, 2), 2));", '});',
      "it('standalone', () => same(1, 1));", ''].join('\n');
    // jest's cache goes where the project says, inside it, rather than the temp folder.
    const repo = repoOf(context, { '.gitignore': 'node_modules\n.jest-cache\n', 'calc.js': calc, 'test/calc.test.js': tests,
      'package.json': JSON.stringify({ name: 'r', scripts: { test: script }, ...(runner === 'jest' ? { jest: { cacheDirectory: '<rootDir>/.jest-cache' } } : {}) }) });
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(repo, 'node_modules'));
    const { trees, ids } = await setup(context, repo, { A: patchOf(repo, { 'calc.js': calc.replace('a + b', 'a === 0 ? 0 : a + b') }) });
    const result = await regressionSignal(trees, ids, { timeoutMs: 120_000 });
    expect(result.test).toMatchObject({ kind: 'npm', format, reason: `package.json scripts.test runs ${runner}` });
    expect(result.baseline?.results.size).toBe(3);
    expect(result.baseline?.results.get(firstId)).toBe('passed');
    expect(ok(result.values.get('A')).detail).toBe(`breaks 1 of 3 passing tests: ${shown}`);
  });

  it('runs go test -json, counting a package that no longer builds', async (context) => {
    const missing = missingTool('go', 'the Go toolchain');
    if (missing) context.skip(missing);
    const repo = repoOf(context, {
      'go.mod': 'module example.com/calc\n\ngo 1.21\n',
      'calc.go': 'package calc\n\nfunc Add(a, b int) int { return a + b }\n\nfunc Mul(a, b int) int { return a * b }\n',
      'calc_test.go': 'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal("add")\n\t}\n}\n\nfunc TestMul(t *testing.T) {\n\tt.Run("small", func(t *testing.T) {\n\t\tif Mul(2, 3) != 6 {\n\t\t\tt.Fatal("mul")\n\t\t}\n\t})\n}\n',
    });
    const { trees, ids } = await setup(context, repo, {
      A: patchOf(repo, { 'calc.go': 'package calc\n\nfunc Add(a, b int) int { return a + b }\n\nfunc Mul(a, b int) int { return a + b }\n' }),
      B: patchOf(repo, { 'calc.go': 'package calc\n\nfunc Add(a, b int) int { return a + b\n' }),
    });
    const result = await regressionSignal(trees, ids, { timeoutMs: 120_000 });
    expect(result.test?.kind).toBe('go');
    expect([...result.baseline!.results.keys()].sort()).toEqual(['example.com/calc/TestAdd', 'example.com/calc/TestMul', 'example.com/calc/TestMul/small']);
    expect(ok(result.values.get('A')).detail).toBe('breaks 2 of 3 passing tests: TestMul, small');
    const b = ok(result.values.get('B'));
    expect(b.score).toBe(-3);
    expect(b.data?.newFailing).toEqual(['example.com/calc (package)']);
  });

  it('runs cargo test, keeping test binaries apart', async (context) => {
    const missing = missingTool('cargo', 'the Rust toolchain');
    if (missing) context.skip(missing);
    const repo = repoOf(context, {
      'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
      '.gitignore': 'target/\n',
      'src/lib.rs': 'pub fn add(a: i32, b: i32) -> i32 { a + b }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(2, 2), 4); }\n}\n',
      'tests/api.rs': '#[test]\nfn adds() { assert_eq!(calc::add(1, 1), 2); }\n',
    });
    const { trees, ids } = await setup(context, repo, { A: patchOf(repo, { 'src/lib.rs': 'pub fn add(a: i32, b: i32) -> i32 { a + b }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(2, 2), 4); }\n}\n\n/// Subtracts.\npub fn sub(a: i32, b: i32) -> i32 { a - b }\n' }) });
    const result = await regressionSignal(trees, ids, { timeoutMs: 120_000 });
    expect(result.test?.kind).toBe('cargo');
    expect([...result.baseline!.results.keys()].sort()).toEqual(['tests/api.rs::adds', 'unittests src/lib.rs::tests::adds']);
    expect(ok(result.values.get('A')).detail).toBe('2/2 tests that passed before still pass');
  });
});

describe('compare', () => {
  const run = (results: Record<string, 'passed' | 'failed'>) => ({
    results: new Map(Object.entries(results)), perTest: true, exitCode: 0, timedOut: false, cancelled: false, durationMs: 1, tail: '',
  });

  it('follows a test renamed by a number in its name (a timestamp, a random parameter) instead of counting it broken', () => {
    const before = run({ 'test_a.py::test_at[1701]': 'passed', 'test_a.py::test_seed[4242]': 'passed', 'test_a.py::test_plain': 'passed', 'test_a.py::test_issue_12': 'passed' });
    const same = compare(before, run({ 'test_a.py::test_at[1702]': 'passed', 'test_a.py::test_seed[9797]': 'passed', 'test_a.py::test_plain': 'passed', 'test_a.py::test_issue_12': 'passed' }));
    expect([same.status === 'ok' && same.score, same.status === 'ok' && same.detail]).toEqual([0, '4/4 tests that passed before still pass']);
    // Renamed and now failing is broken, under the name it passed with; a test that is just gone is broken too,
    // and so is one replaced by another whose short number differs: that is another test, not a rename.
    const worse = compare(before, run({ 'test_a.py::test_at[1703]': 'failed', 'test_a.py::test_seed[5555]': 'passed', 'test_a.py::test_issue_34': 'passed' }));
    expect(worse).toMatchObject({ status: 'ok', score: -3, data: { broken: ['test_a.py::test_at[1701]', 'test_a.py::test_issue_12', 'test_a.py::test_plain'], newFailing: [] } });
  });
});
