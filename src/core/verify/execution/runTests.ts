/** Runs a test command in one checkout and reads its per-test results, falling back to the exit code. */
import { mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcessRunner } from '../../node/nodeProcessRunner.js';
import { readRegularFile } from '../../node/readRegularFile.js';
import { shellQuote } from '../../process/shellQuote.js';
import type { ProcessRunner } from '../../types.js';
import type { TestCommand } from './detectTestCommand.js';
import { pythonPathExport } from '../../worktree/editableInstalls.js';
import { parseCargoTest } from './parseCargo.js';
import { parseGoTestJson } from './parseGoTest.js';
import { parseJestJson } from './parseJestJson.js';
import { parseJUnit } from './parseJUnit.js';
import { parsePytestSummary } from './parsePytest.js';
import { parseTap } from './parseTap.js';
import { parseUnittestVerbose } from './parseUnittest.js';
import { pytestProblem, pytestUncollected, unittestProblem } from './outputProblems.js';
import { record, type ResultFormat, type TestResults } from './testResults.js';

/** Options of one test run. */
export interface RunTestsOptions {
  runner?: ProcessRunner;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Where `{report}` files are made; defaults to the system's temp folder (outside every checkout). */
  reportDir?: string;
  /** Folders of the checkout put first on PYTHONPATH (see CandidateTrees.importPaths). */
  importPaths?: readonly string[];
}

/** What one run of a test command produced. */
export interface TestRun {
  /** Per-test outcomes; without per-test output, one pseudo test `suite` carrying the exit code. */
  results: TestResults;
  /** False when the outcome is only the exit code. */
  perTest: boolean;
  /**
   * Why the per-test outcomes are not the whole run (no per-test output, a collection error, a crash, a cut
   * log); undefined when they are. A run with a reason here cannot be compared test by test.
   */
  unreadable?: string;
  /** Test files that could not be collected when that was all that stopped the run (pytest); see pytestUncollected. */
  uncollected?: string[];
  exitCode: number | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** The last lines of the output, to explain a run that went wrong. */
  tail: string;
}

/** The pseudo test of a run whose runner printed nothing per test. */
export const SUITE_ID = 'suite';

// Runners print colours, progress bars and interactive prompts less, and Python writes no bytecode into the
// checkout, when told they run unattended.
const QUIET_ENV = 'export CI=true NO_COLOR=1 FORCE_COLOR=0 CARGO_TERM_COLOR=never PYTHONDONTWRITEBYTECODE=1 PY_COLORS=0';
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const MAX_REPORT_BYTES = 64 * 1024 * 1024;
const TAIL_LINES = 15;

/**
 * Runs `test.command` with `bash -c` in `dir`, stderr merged into stdout so that lines keep their order, and
 * returns its per-test results. Test ids that contain the checkout's own path are made relative, so ids from
 * two checkouts of the same repository compare equal.
 */
export async function runTests(dir: string, test: TestCommand, options: RunTestsOptions): Promise<TestRun> {
  const runner = options.runner ?? new NodeProcessRunner();
  const reportFolder = test.command.includes('{report}') ? await mkdtemp(join(options.reportDir ?? tmpdir(), 'entropo-report-')) : undefined;
  try {
    const report = reportFolder === undefined ? undefined : join(reportFolder, 'report.xml');
    const command = report === undefined ? test.command : test.command.split('{report}').join(shellQuote(report));
    const result = await runner.shell(`${QUIET_ENV}; ${pythonPathExport(options.importPaths ?? [])}exec 2>&1; ${command}`, {
      cwd: dir, timeoutMs: options.timeoutMs, signal: options.signal, maxOutputBytes: MAX_OUTPUT_BYTES,
    });
    const output = result.stdout + result.stderr;
    const reports = await readReports(dir, test, report);
    const read = readResults(test.format, output, reports);
    const parsed = relativeIds(read.results, [dir, await realpath(dir).catch(() => dir)]);
    const perTest = parsed.size > 0;
    const results: TestResults = perTest ? parsed : new Map([[SUITE_ID, result.exitCode === 0 && !result.timedOut ? 'passed' : 'failed']]);
    return {
      results, perTest, unreadable: unreadable(test, read, output, result.truncated), uncollected: pytestUncollected(output),
      exitCode: result.exitCode, timedOut: result.timedOut,
      cancelled: result.cancelled, durationMs: result.durationMs, tail: output.trimEnd().split('\n').slice(-TAIL_LINES).join('\n'),
    };
  } finally {
    if (reportFolder !== undefined) await rm(reportFolder, { recursive: true, force: true });
  }
}

/** Per-test results of `output` (and JUnit `reports`) in the given format; `auto` takes the first format that finds tests. */
export function parseResults(format: ResultFormat, output: string, reports: string[] = []): TestResults {
  return readResults(format, output, reports).results;
}

/** Where the results came from: a JUnit report, a text format, or nowhere. */
type Read = { results: TestResults; source: Exclude<ResultFormat, 'auto'> | 'none' };

function readResults(format: ResultFormat, output: string, reports: string[]): Read {
  const fromReports = (parse: (text: string, into: TestResults) => unknown): TestResults => {
    const results: TestResults = new Map();
    for (const text of reports) parse(text, results);
    return results;
  };
  const parsers: Record<Exclude<ResultFormat, 'auto'>, () => TestResults> = {
    junit: () => fromReports(parseJUnit), 'jest-json': () => fromReports(parseJestJson),
    'go-json': () => parseGoTestJson(output), pytest: () => parsePytestSummary(output), tap: () => parseTap(output),
    unittest: () => parseUnittestVerbose(output), cargo: () => parseCargoTest(output),
  };
  const order: Exclude<ResultFormat, 'auto'>[] = format === 'auto' ? ['junit', 'go-json', 'pytest', 'tap', 'unittest', 'cargo']
    : format === 'pytest' ? ['junit', 'pytest'] : [format];
  for (const source of order) {
    const results = parsers[source]();
    if (results.size > 0) return { results, source };
  }
  return { results: new Map(), source: 'none' };
}

/** Why the outcomes read are not the whole run, or undefined when they are. */
function unreadable(test: TestCommand, read: Read, output: string, truncated: boolean): string | undefined {
  if (read.source === 'none') {
    return `no per-test outcomes in the output of \`${test.command}\`${test.note ? ` (${test.note})` : ''}`;
  }
  const pytest = read.source === 'pytest' || (read.source === 'junit' && test.format === 'pytest');
  const problem = pytest ? pytestProblem(output, read.source === 'junit') : read.source === 'unittest' ? unittestProblem(output) : undefined;
  if (problem !== undefined) return problem;
  if (truncated && read.source !== 'junit' && read.source !== 'jest-json') return `the output was cut at ${MAX_OUTPUT_BYTES / 1024 / 1024} MiB, so later tests are missing from it`;
  return undefined;
}

async function readReports(dir: string, test: TestCommand, report: string | undefined): Promise<string[]> {
  const files: string[] = [];
  if (report !== undefined) files.push(report);
  if (test.reportDirs !== undefined) files.push(...(await findReports(dir, new Set(test.reportDirs))));
  // The test run wrote these: a link, a pipe or a huge file there is read as no report.
  const texts = await Promise.all(files.map((file) => readRegularFile(file, { maxBytes: MAX_REPORT_BYTES }).then((b) => b.toString('utf8'), () => '')));
  return texts.filter((text) => text.trim() !== '');
}

/** `*.xml` files in folders named one of `names` anywhere below `dir` (one per module of a multi-module build). */
async function findReports(dir: string, names: Set<string>, depth = 0): Promise<string[]> {
  if (depth > 6) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === '.git' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (names.has(entry.name)) {
      const files = await readdir(path).catch(() => []);
      found.push(...files.filter((f) => f.endsWith('.xml')).map((f) => join(path, f)));
    } else found.push(...(await findReports(path, names, depth + 1)));
  }
  return found;
}

function relativeIds(results: TestResults, roots: string[]): TestResults {
  const prefixes = [...new Set(roots)].map((root) => `${root.replace(/\/+$/, '')}/`);
  if (![...results.keys()].some((id) => prefixes.some((p) => id.includes(p)))) return results;
  const out: TestResults = new Map();
  for (const [id, status] of results) record(out, prefixes.reduce((text, p) => text.split(p).join(''), id), status);
  return out;
}
