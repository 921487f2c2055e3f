/** Finds the command that runs a repository's tests, made to report per-test results where the runner can. */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeProcessRunner } from '../../node/nodeProcessRunner.js';
import type { ProcessRunner } from '../../types.js';
import { withPerTestOutput } from './perTestFlags.js';
import type { ResultFormat } from './testResults.js';

/** Which test runner a command drives. */
export type TestRunnerKind = 'configured' | 'npm' | 'node' | 'pytest' | 'unittest' | 'go' | 'cargo' | 'maven' | 'gradle';

/** A test command, ready to run with `bash -c` in the top folder of a checkout. */
export interface TestCommand {
  /** The command line; `{report}` stands for a fresh report file path outside the checkout (JUnit XML, or jest's JSON). */
  command: string;
  kind: TestRunnerKind;
  format: ResultFormat;
  /** Why this command was chosen, for people: "package.json scripts.test", "go.mod". */
  reason: string;
  /** Folder names whose `*.xml` files below the checkout are JUnit reports written by the run (surefire). */
  reportDirs?: string[];
  /** What could not be done to get per-test outcomes from this command, for people. */
  note?: string;
}

/** The detected command, or why none was found. */
export type DetectedTestCommand = { found: true; test: TestCommand } | { found: false; reason: string };

/** Options of `detectTestCommand`. */
export interface DetectOptions {
  /** A command the user configured; it wins over detection. Its output format is guessed unless given. */
  configured?: string | { command: string; format?: ResultFormat };
  /** Runs the probes (is pytest importable, is mvn installed); defaults to a NodeProcessRunner. */
  runner?: ProcessRunner;
  signal?: AbortSignal;
}

/** Test-file names are looked for this many folders deep; deeper test trees always have shallower files too. */
const MAX_DEPTH = 5;
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.tox', 'dist', 'build', 'target', '.mypy_cache', '.pytest_cache']);
const NPM_PLACEHOLDER = /no test specified/;
const PYTHON_TEST = /^(test.*|.*_test)\.py$/;
const NODE_TEST = /(^|[.\-_])test\.[cm]?js$|^test-.*\.[cm]?js$/;

/**
 * Detects how to run the tests of the checkout at `root`: a configured command first, then package.json's
 * `scripts.test`, pytest, unittest, `go test`, `cargo test`, Maven or Gradle (through a wrapper), and node's own
 * runner. Commands are rewritten to report per test: JUnit XML or `-rA` for pytest, `-v` for unittest,
 * `-json` for go, TAP for node.
 */
export async function detectTestCommand(root: string, options: DetectOptions = {}): Promise<DetectedTestCommand> {
  if (options.configured !== undefined) return { found: true, test: configuredCommand(options.configured) };
  const runner = options.runner ?? new NodeProcessRunner();
  const detectors = [fromPackageJson, fromPython, fromGo, fromCargo, fromJvm, fromNodeTests];
  for (const detect of detectors) {
    const test = await detect(root, runner, options.signal);
    if (test !== undefined) return { found: true, test };
  }
  return { found: false, reason: 'no test command found (configure one)' };
}

// A command given with its format is run as given; otherwise the flags its runner needs to report each test
// are added where the runner is known.
function configuredCommand(configured: NonNullable<DetectOptions['configured']>): TestCommand {
  const { command, format } = typeof configured === 'string' ? { command: configured, format: undefined } : configured;
  if (format !== undefined) return { command, kind: 'configured', format, reason: 'configured' };
  const adapted = withPerTestOutput(command);
  return { ...adapted, kind: 'configured', reason: 'configured' };
}

type Detector = (root: string, runner: ProcessRunner, signal?: AbortSignal) => Promise<TestCommand | undefined>;

const fromPackageJson: Detector = async (root) => {
  const manifest = await readJson(join(root, 'package.json'));
  const script = (manifest?.scripts as Record<string, unknown> | undefined)?.test;
  if (typeof script !== 'string' || script.trim() === '' || NPM_PLACEHOLDER.test(script)) return undefined;
  // A bare `node --test ...` script is run directly with the TAP reporter; anything else through npm, whose
  // output format is guessed (node's runner writes TAP into a pipe by default anyway).
  if (/^node\s(?:[^&|;<>`$]*\s)?--test(?:\s[^&|;<>`$]*)?$/.test(script.trim())) {
    const command = script.trim().replace(/^node\s/, 'node --test-reporter=tap --test-reporter-destination=stdout ');
    return { command, kind: 'node', format: 'tap', reason: 'package.json scripts.test runs node --test' };
  }
  const known = npmRunner(script.trim());
  if (known) return { command: `npm test --silent -- ${known.flags}`, kind: 'npm', format: known.format, reason: `package.json scripts.test runs ${known.name}` };
  return { command: 'npm test --silent', kind: 'npm', format: 'auto', reason: 'package.json scripts.test' };
};

// What makes each runner report every test, given after `npm test --`: to a file where its own output is for
// people (jest's JSON, vitest's JUnit), else TAP on the output.
const NPM_RUNNERS: Record<string, { flags: string; format: ResultFormat }> = {
  jest: { flags: '--ci --json --outputFile={report}', format: 'jest-json' },
  vitest: { flags: '--run --reporter=default --reporter=junit --outputFile.junit={report}', format: 'junit' },
  mocha: { flags: '--reporter tap', format: 'tap' },
};

/**
 * The known runner a `scripts.test` of one command starts (`jest`, `vitest run --coverage`, `mocha
 * 'test/**' `, after `VAR=value`s or `npx`), whose per-test flags npm appends to it; none for a script of
 * several commands (`&&`, `;`, a pipe), where they would reach the last one.
 */
function npmRunner(script: string): { name: string; flags: string; format: ResultFormat } | undefined {
  if (/[;&|`$<>(){}]/.test(script)) return undefined;
  const words = script.split(/\s+/).filter((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  const name = words[0] === 'npx' ? words[1] : words[0];
  const known = name === undefined ? undefined : NPM_RUNNERS[name];
  return known && { name, ...known };
}

const fromPython: Detector = async (root, runner, signal) => {
  const python = pythonFor(root);
  const configured = await pytestConfigured(root);
  const hasTests = configured !== undefined || (await findFile(root, (name) => PYTHON_TEST.test(name))) !== undefined;
  if (!hasTests) return undefined;
  const probe = await runner.exec(python, ['-c', 'import pytest'], { cwd: root, timeoutMs: 30_000, signal });
  if (probe.exitCode === 0) {
    const command = `${python} -m pytest -rA -q -p no:cacheprovider -o junit_family=xunit1 --junitxml={report}`;
    return { command, kind: 'pytest', format: 'pytest', reason: configured ?? 'Python test files, pytest installed' };
  }
  const why = configured === undefined ? 'Python test files, pytest not installed' : `${configured} but pytest is not installed`;
  return { command: `${python} -m unittest -v`, kind: 'unittest', format: 'unittest', reason: why };
};

const fromGo: Detector = async (root) =>
  existsSync(join(root, 'go.mod')) ? { command: 'go test -json ./...', kind: 'go', format: 'go-json', reason: 'go.mod' } : undefined;

const fromCargo: Detector = async (root) =>
  existsSync(join(root, 'Cargo.toml'))
    ? { command: 'cargo test --no-fail-fast', kind: 'cargo', format: 'cargo', reason: 'Cargo.toml' }
    : undefined;

const fromJvm: Detector = async (root, runner, signal) => {
  if (existsSync(join(root, 'pom.xml'))) {
    const wrapper = existsSync(join(root, 'mvnw'));
    const installed = wrapper || (await runner.shell('command -v mvn', { cwd: root, timeoutMs: 10_000, signal })).exitCode === 0;
    if (!installed) return undefined;
    return {
      command: `${wrapper ? 'sh ./mvnw' : 'mvn'} -B -fae test`, kind: 'maven', format: 'junit',
      reason: wrapper ? 'pom.xml with mvnw' : 'pom.xml', reportDirs: ['surefire-reports'],
    };
  }
  const gradle = ['build.gradle', 'build.gradle.kts'].some((name) => existsSync(join(root, name)));
  if (gradle && existsSync(join(root, 'gradlew'))) {
    return { command: 'sh ./gradlew test --continue', kind: 'gradle', format: 'junit', reason: 'build.gradle with gradlew', reportDirs: ['test-results'] };
  }
  return undefined;
};

const fromNodeTests: Detector = async (root) => {
  const file = await findFile(root, (name) => NODE_TEST.test(name));
  if (file === undefined || !(await readFile(file, 'utf8')).includes('node:test')) return undefined;
  const command = 'node --test-reporter=tap --test-reporter-destination=stdout --test';
  return { command, kind: 'node', format: 'tap', reason: 'test files using node:test' };
};

/** The Python of the checkout's virtual environment when it has one, else `python3` from PATH. */
export function pythonFor(root: string): string {
  for (const venv of ['.venv', 'venv']) {
    if (existsSync(join(root, venv, 'bin', 'python'))) return `${venv}/bin/python`;
  }
  return 'python3';
}

async function pytestConfigured(root: string): Promise<string | undefined> {
  if (existsSync(join(root, 'pytest.ini'))) return 'pytest.ini';
  if (existsSync(join(root, 'conftest.py'))) return 'conftest.py';
  const sections: [string, string][] = [['pyproject.toml', '[tool.pytest'], ['setup.cfg', '[tool:pytest]'], ['tox.ini', '[pytest]']];
  for (const [file, section] of sections) {
    const text = await readFile(join(root, file), 'utf8').catch(() => '');
    if (text.includes(section)) return `${file} ${section.replace(/^\[|\]$/g, '')}`;
  }
  return undefined;
}

/** The first file (breadth first, up to MAX_DEPTH folders deep) whose name satisfies `test`. */
async function findFile(root: string, test: (name: string) => boolean): Promise<string | undefined> {
  let level = [root];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.isFile() && test(entry.name)) return join(dir, entry.name);
        if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) next.push(join(dir, entry.name));
      }
    }
    level = next;
  }
  return undefined;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
