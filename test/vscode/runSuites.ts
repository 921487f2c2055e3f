import { isSkip, type Suite, type TestFn } from './suite.js';

/** The outcome of one test, as written to the results file that the browser-side runner reads. */
export interface TestResult {
  suite: string;
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  error?: string;
}

/** Prefix of every line the runner logs, so the browser side can tell them from the editor's own logs. */
export const LOG_PREFIX = '[e2e]';

/** Runs `fn`, failing it when it takes longer than `timeoutMs`. */
async function withTimeout(fn: TestFn, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** How `runSuites` filters and reports. */
export interface RunOptions {
  /** Keeps only the tests whose "suite › name" matches. */
  grep?: RegExp;
  log: (line: string) => void;
  /** Called before each test with its name, and once more at the end with `undefined`. */
  onProgress?: (results: readonly TestResult[], running: string | undefined) => void;
}

/** Runs one suite's tests in order, then its clean-up steps; a failing clean-up is reported as a test. */
async function runSuite(suite: Suite, options: RunOptions, results: TestResult[]): Promise<void> {
  const { grep, log } = options;
  const selected = suite.tests.filter((test) => !grep || grep.test(`${suite.name} › ${test.name}`));
  if (selected.length === 0) return;
  for (const test of selected) {
    const full = `${suite.name} › ${test.name}`;
    options.onProgress?.(results, full);
    const started = Date.now();
    try {
      await withTimeout(test.fn, test.timeoutMs);
      results.push({ suite: suite.name, name: test.name, status: 'passed', durationMs: Date.now() - started });
      log(`${LOG_PREFIX} ✓ ${full} (${Date.now() - started} ms)`);
    } catch (error) {
      if (isSkip(error)) {
        results.push({ suite: suite.name, name: test.name, status: 'skipped', durationMs: 0, error: error.message });
        log(`${LOG_PREFIX} - ${full} (skipped: ${error.message})`);
        continue;
      }
      results.push({ suite: suite.name, name: test.name, status: 'failed', durationMs: Date.now() - started, error: describe(error) });
      log(`${LOG_PREFIX} ✗ ${full} (${Date.now() - started} ms)\n${describe(error)}`);
    }
  }
  for (const [index, fn] of suite.afterAll.entries()) {
    options.onProgress?.(results, `${suite.name} › after #${index + 1}`);
    try {
      await withTimeout(fn, 30_000);
    } catch (error) {
      const name = `after #${index + 1}`;
      results.push({ suite: suite.name, name, status: 'failed', durationMs: 0, error: describe(error) });
      log(`${LOG_PREFIX} ✗ ${suite.name} › ${name}\n${describe(error)}`);
    }
  }
}

/** Runs every suite in order and returns one result per selected test (clean-up steps only report failures). */
export async function runSuites(suites: Suite[], options: RunOptions): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const suite of suites) await runSuite(suite, options, results);
  options.onProgress?.(results, undefined);
  return results;
}
