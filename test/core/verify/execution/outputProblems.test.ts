import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pytestProblem, pytestUncollected, unittestProblem } from '../../../../src/core/verify/execution/outputProblems.js';
import { parsePytestSummary } from '../../../../src/core/verify/execution/parsePytest.js';
import { withPerTestOutput } from '../../../../src/core/verify/execution/perTestFlags.js';

const fixture = (name: string): string => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');

describe('pytest output that is not the whole run', () => {
  it('accepts -rA output in which every counted outcome is named, XFAIL and XPASS as outcomes of their own', () => {
    const output = fixture('pytest-rA-xfail.txt');
    expect(pytestProblem(output, false)).toBeUndefined();
    expect(Object.fromEntries(parsePytestSummary(output))).toEqual({
      'tests/test_m.py::test_a': 'passed', 'tests/test_m.py::test_b': 'failed', 'tests/test_m.py::test_x': 'xfailed',
      'tests/test_m.py::test_xp': 'xpassed', 'tests/test_m.py:8': 'skipped',
    });
    expect(pytestProblem(fixture('pytest-rA.txt'), false)).toBeUndefined();
  });

  it('rejects -q output, whose summary names the failures but not the passes', () => {
    expect(pytestProblem(fixture('pytest-q.txt'), false)).toBe('pytest counts 1 passed but names 0 of them (run it with -rA to print every outcome)');
  });

  it('rejects a log cut before the final line, and a run that crashed mid-way', () => {
    const full = fixture('pytest-rA.txt');
    const cut = full.slice(0, full.indexOf('FAILED tests/test_mix.py::test_fail'));
    expect(parsePytestSummary(cut).size).toBeGreaterThan(0);
    expect(pytestProblem(cut, false)).toBe("the output ends before pytest's final summary line (a crash, a kill or a cut log); its last line: ERROR tests/test_mix.py::test_error - RuntimeError: fixture broke");
    expect(pytestProblem(fixture('pytest-crash.txt'), false)).toMatch(/^the output ends before pytest's final summary line .*its last line: \.FxXs$/);
  });

  it('rejects a session stopped at a collection error, even when a JUnit report was written', () => {
    const output = fixture('pytest-collection-error.txt');
    const problem = 'pytest stopped before running every test (Interrupted: 1 error during collection: tests/test_bad.py)';
    expect(pytestProblem(output, false)).toBe(problem);
    expect(pytestProblem(output, true)).toBe(problem);
    // With a candidate applied, the file that no longer imports is named: its tests count as broken there
    expect(pytestUncollected(output)).toEqual(['tests/test_bad.py']);
    expect(pytestUncollected(fixture('pytest-crash.txt'))).toEqual([]);
    expect(pytestUncollected(fixture('pytest-rA.txt'))).toEqual([]);
  });

  it('trusts a JUnit report otherwise, and wants unittest to reach its "Ran N tests" line', () => {
    expect(pytestProblem(fixture('pytest-q.txt'), true)).toBeUndefined();
    expect(unittestProblem(fixture('unittest-v.txt'))).toBeUndefined();
    expect(unittestProblem('test_a (m.T.test_a) ... ok\n')).toMatch(/^the output ends before unittest's "Ran N tests" line/);
  });
});

describe('withPerTestOutput', () => {
  it.each([
    ['pytest -q tests/', 'pytest -rA -q tests/', 'pytest'],
    ['cd src && .venv/bin/python -m pytest -x -q', 'cd src && .venv/bin/python -m pytest -rA -x -q', 'pytest'],
    ['python3 -m pytest -rfEA', 'python3 -m pytest -rfEA', 'pytest'],
    ['python3 -m unittest discover -s tests', 'python3 -m unittest -v discover -s tests', 'unittest'],
    ['go test ./pkg/...', 'go test -json ./pkg/...', 'go-json'],
    ['go test -json ./...', 'go test -json ./...', 'go-json'],
    ['cargo test --workspace', 'cargo test --workspace', 'cargo'],
  ])('%s -> %s (%s)', (given, command, format) => {
    expect(withPerTestOutput(given)).toEqual({ command, format });
  });

  it('says when it knows no flag for the runner', () => {
    expect(withPerTestOutput('make check')).toEqual({ command: 'make check', format: 'auto', note: 'no per-test reporting flag is known for this command; its output is read as printed' });
    expect(withPerTestOutput('cargo test -q').note).toMatch(/cargo test -q prints no test names/);
  });
});
