/** The common shape of every test-result parser: test id to outcome, with the worst outcome kept per id. */

/** How a run's per-test results are read: `auto` tries JUnit reports, then every text format in turn. */
export type ResultFormat = 'pytest' | 'junit' | 'jest-json' | 'tap' | 'unittest' | 'go-json' | 'cargo' | 'auto';

/**
 * Outcome of one test. `error` is a test that could not run (setup, import, collection), `failed` an assertion.
 * `xfailed` and `xpassed` are tests marked as expected to fail that did fail, or passed anyway: neither is a
 * pass that a change can break, so they are kept apart from `passed`.
 */
export type TestStatus = 'passed' | 'failed' | 'skipped' | 'error' | 'xfailed' | 'xpassed';

/** Per-test outcomes of one run, keyed by a test id that is stable across checkouts of the same repository. */
export type TestResults = Map<string, TestStatus>;

const RANK: Record<TestStatus, number> = { skipped: 0, xfailed: 0, xpassed: 1, passed: 1, failed: 2, error: 3 };

/**
 * Records `status` for `id`, keeping the worse one when the id was seen before: a test reported twice (a
 * parametrised name, a subtest, the same name in two files) passes only if every report passed.
 */
export function record(results: TestResults, id: string, status: TestStatus): void {
  const previous = results.get(id);
  if (previous === undefined || RANK[status] > RANK[previous]) results.set(id, status);
}

/** True for outcomes that count as "not passing" after a change: a failure, an error. */
export function isFailing(status: TestStatus | undefined): boolean {
  return status === 'failed' || status === 'error';
}

/** The last non-blank line of a run's output, without colour codes, cut at 200 characters: what went wrong, for people. */
export function lastLine(output: string): string {
  return stripAnsi(output).split('\n').map((line) => line.trim()).filter(Boolean).at(-1)?.slice(0, 200) ?? '(no output)';
}

/** Removes colour escapes, which some runners print even into a pipe when FORCE_COLOR is set. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}
