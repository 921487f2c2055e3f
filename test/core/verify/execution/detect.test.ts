import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectTestCommand } from '../../../../src/core/verify/execution/detectTestCommand.js';
import { runTests } from '../../../../src/core/verify/execution/runTests.js';
import { tempDir } from '../../../helpers/tempRepo.js';
import { pytestWorks, write } from './fixtureRepo.js';


describe('detectTestCommand', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  function dir(files: Record<string, string>): string {
    const temp = tempDir('entropo-detect-');
    cleanups.push(temp.cleanup);
    write(temp.dir, files);
    return temp.dir;
  }

  it('prefers a configured command and guesses its format', async () => {
    const root = dir({ 'go.mod': 'module x\n' });
    expect(await detectTestCommand(root, { configured: 'make check' })).toEqual({
      found: true, test: { command: 'make check', kind: 'configured', format: 'auto', reason: 'configured', note: 'no per-test reporting flag is known for this command; its output is read as printed' },
    });
  });

  it('reads package.json: npm test, a bare node --test rewritten for TAP, and npm\'s placeholder skipped', async () => {
    const npm = await detectTestCommand(dir({ 'package.json': JSON.stringify({ scripts: { test: 'eslint . && tsc' } }) }));
    expect(npm).toEqual({ found: true, test: { command: 'npm test --silent', kind: 'npm', format: 'auto', reason: 'package.json scripts.test' } });
    // A known runner alone gets the flags that make it report every test.
    const jest = await detectTestCommand(dir({ 'package.json': JSON.stringify({ scripts: { test: 'NODE_ENV=test npx jest --ci' } }) }));
    expect(jest).toEqual({ found: true, test: { command: 'npm test --silent -- --ci --json --outputFile={report}', kind: 'npm', format: 'jest-json', reason: 'package.json scripts.test runs jest' } });
    const mochaChained = await detectTestCommand(dir({ 'package.json': JSON.stringify({ scripts: { test: 'mocha && eslint .' } }) }));
    expect(mochaChained.found && mochaChained.test.format).toBe('auto');
    const node = await detectTestCommand(dir({ 'package.json': JSON.stringify({ scripts: { test: 'node --test test/' } }) }));
    expect(node.found && node.test).toMatchObject({ command: 'node --test-reporter=tap --test-reporter-destination=stdout --test test/', kind: 'node', format: 'tap' });
    const chained = await detectTestCommand(dir({ 'package.json': JSON.stringify({ scripts: { test: 'node --test && eslint .' } }) }));
    expect(chained.found && chained.test.kind).toBe('npm');
    const placeholder = { test: 'echo "Error: no test specified" && exit 1' };
    expect(await detectTestCommand(dir({ 'package.json': JSON.stringify({ scripts: placeholder }), 'README.md': '' }))).toEqual({
      found: false, reason: 'no test command found (configure one)',
    });
  });

  it('finds pytest by its configuration, with a JUnit report and -rA', async (context) => {
    if (!pytestWorks) context.skip('python3 -m pytest is not installed here');
    const ini = await detectTestCommand(dir({ 'pytest.ini': '[pytest]\n' }));
    expect(ini.found && ini.test).toEqual({
      command: 'python3 -m pytest -rA -q -p no:cacheprovider -o junit_family=xunit1 --junitxml={report}',
      kind: 'pytest', format: 'pytest', reason: 'pytest.ini',
    });
    const pyproject = await detectTestCommand(dir({ 'pyproject.toml': '[tool.pytest.ini_options]\naddopts = "-x"\n' }));
    expect(pyproject.found && pyproject.test.reason).toBe('pyproject.toml tool.pytest');
    const files = await detectTestCommand(dir({ 'pkg/tests/test_a.py': 'def test_a():\n    pass\n' }));
    expect(files.found && [files.test.kind, files.test.reason]).toEqual(['pytest', 'Python test files, pytest installed']);
  });

  it('falls back to unittest with the checkout\'s own Python when pytest cannot be imported', async () => {
    // A virtual environment's interpreter without site-packages: the standard library, and no pytest.
    const root = dir({ '.venv/bin/python': '#!/bin/sh\nexec python3 -S "$@"\n', 'tests/__init__.py': '', 'tests/test_a.py': 'import unittest\n\n\nclass A(unittest.TestCase):\n    def test_a(self):\n        pass\n' });
    chmodSync(path.join(root, '.venv/bin/python'), 0o755);
    const detected = await detectTestCommand(root);
    expect(detected.found && detected.test).toEqual({
      command: '.venv/bin/python -m unittest -v', kind: 'unittest', format: 'unittest', reason: 'Python test files, pytest not installed',
    });
    if (!detected.found) return;
    const run = await runTests(root, detected.test, { timeoutMs: 30_000 });
    expect(Object.fromEntries(run.results)).toEqual({ 'tests.test_a.A.test_a': 'passed' });
    expect(readdirSync(path.join(root, 'tests')).sort()).toEqual(['__init__.py', 'test_a.py']);
  });

  it('recognises go.mod, Cargo.toml, Maven and Gradle wrappers, and node:test files', async () => {
    const kinds = async (files: Record<string, string>) => {
      const found = await detectTestCommand(dir(files));
      return found.found ? [found.test.kind, found.test.command, found.test.reportDirs] : found.reason;
    };
    expect(await kinds({ 'go.mod': 'module x\n' })).toEqual(['go', 'go test -json ./...', undefined]);
    expect(await kinds({ 'Cargo.toml': '[package]\n' })).toEqual(['cargo', 'cargo test --no-fail-fast', undefined]);
    expect(await kinds({ 'pom.xml': '<project/>', mvnw: '' })).toEqual(['maven', 'sh ./mvnw -B -fae test', ['surefire-reports']]);
    expect(await kinds({ 'build.gradle.kts': '', gradlew: '' })).toEqual(['gradle', 'sh ./gradlew test --continue', ['test-results']]);
    expect(await kinds({ 'build.gradle': '' })).toBe('no test command found (configure one)');
    expect(await kinds({ 'test/a.test.mjs': "import test from 'node:test';\n" })).toEqual(
      ['node', 'node --test-reporter=tap --test-reporter-destination=stdout --test', undefined]);
    expect(await kinds({ 'test/a.test.js': "require('mocha');\n" })).toBe('no test command found (configure one)');
  });
});

describe('runTests', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('reads a JUnit report written to {report} outside the checkout, and surefire-style report folders', async () => {
    const temp = tempDir('entropo-run-');
    cleanups.push(temp.cleanup);
    const report = await runTests(temp.dir, {
      command: `printf '<testsuite><testcase classname="a.B" name="c"/><testcase classname="a.B" name="d"><failure/></testcase></testsuite>' > {report}; exit 1`,
      kind: 'configured', format: 'junit', reason: 'test',
    }, { timeoutMs: 10_000 });
    expect([Object.fromEntries(report.results), report.perTest, report.exitCode]).toEqual([{ 'a.B.c': 'passed', 'a.B.d': 'failed' }, true, 1]);
    expect(readdirSync(temp.dir)).toEqual([]);
    const surefire = await runTests(temp.dir, {
      command: `mkdir -p m1/target/surefire-reports && printf '<testsuite><testcase classname="x.Y" name="z"><skipped/></testcase></testsuite>' > m1/target/surefire-reports/TEST-x.Y.xml`,
      kind: 'maven', format: 'junit', reason: 'test', reportDirs: ['surefire-reports'],
    }, { timeoutMs: 10_000 });
    expect(Object.fromEntries(surefire.results)).toEqual({ 'x.Y.z': 'skipped' });
  });

  it('reads a report the run swapped for a named pipe or a link as no report, without waiting on the pipe', async () => {
    const temp = tempDir('entropo-run-');
    cleanups.push(temp.cleanup);
    const secret = path.join(temp.dir, 'outside.xml');
    writeFileSync(secret, '<testsuite><testcase classname="leaked" name="x"/></testsuite>');
    const swapped = (command: string) => runTests(path.join(temp.dir, 'tree'), {
      command: `${command}; echo 'TAP version 13'; echo 'ok 1 - from the output'`, kind: 'configured', format: 'auto', reason: 'test',
      reportDirs: ['surefire-reports'],
    }, { timeoutMs: 10_000 });
    mkdirSync(path.join(temp.dir, 'tree'));
    const pipe = await swapped('mkfifo {report} && mkdir -p surefire-reports && mkfifo surefire-reports/TEST-a.xml');
    expect([Object.fromEntries(pipe.results), pipe.timedOut]).toEqual([{ 'from the output': 'passed' }, false]);
    const link = await swapped(`ln -s ${secret} {report} && mkdir -p s2/surefire-reports && ln -s ${secret} s2/surefire-reports/TEST-b.xml`);
    expect(Object.fromEntries(link.results)).toEqual({ 'from the output': 'passed' });
  });

  it('falls back to the exit code, keeps stderr in order with stdout, and makes ids independent of the checkout path', async () => {
    const temp = tempDir('entropo-run-');
    cleanups.push(temp.cleanup);
    const plain = await runTests(temp.dir, { command: 'echo fine; echo oops >&2; exit 3', kind: 'configured', format: 'auto', reason: 'test' }, { timeoutMs: 10_000 });
    expect([Object.fromEntries(plain.results), plain.perTest, plain.exitCode, plain.tail]).toEqual([{ suite: 'failed' }, false, 3, 'fine\noops']);
    const tap = await runTests(temp.dir, { command: 'echo "TAP version 13"; echo "ok 1 - $PWD/a.test.js"', kind: 'configured', format: 'tap', reason: 'test' }, { timeoutMs: 10_000 });
    expect(Object.fromEntries(tap.results)).toEqual({ 'a.test.js': 'passed' });
  });
});
