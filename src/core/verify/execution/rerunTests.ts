/** Runs tests that newly failed once more, on their own, to tell a regression from a flake. */
import { shellQuote } from '../../process/shellQuote.js';
import type { TestCommand } from './detectTestCommand.js';
import { runTests, type RunTestsOptions } from './runTests.js';

/** The verdict of the re-run on each test that failed in the full run. */
export interface Rerun {
  /** Failed again: broken. */
  confirmed: string[];
  /** Passed when run alone: a flake, not counted as broken. */
  flaky: string[];
  /** Set when the tests could not be re-run, or the re-run could not be read; all stay broken then. */
  note?: string;
}

/** More ids than this are not re-run: a change that breaks this many tests is not flaking. */
export const MAX_RERUN = 100;

const PYTEST = /^(.*?(?:^|[\s;&|(/])(?:\S*python[\d.]*\s+-m\s+)?(?:pytest|py\.test))(?=\s|$)/;
const UNITTEST = /^(.*?(?:^|[\s;&|(])\S*python[\d.]*\s+-m\s+unittest)(?=\s|$)/;

/**
 * A command that runs only `ids` with the same runner, or undefined where the runner is not one whose tests
 * can be named on the command line (pytest node ids, unittest dotted names). Whatever the original command
 * did before its runner (a `cd`, an environment variable) is kept; its other options are not.
 */
export function rerunCommand(test: TestCommand, ids: readonly string[]): TestCommand | undefined {
  const quoted = ids.map(shellQuote).join(' ');
  const pytest = test.format === 'pytest' || test.format === 'junit' || test.format === 'auto' ? PYTEST.exec(test.command) : null;
  if (pytest && ids.every((id) => id.includes('::') || id.endsWith('.py'))) {
    return { command: `${pytest[1]} -rA -q -p no:cacheprovider ${quoted}`, kind: test.kind, format: 'pytest', reason: 'rerun' };
  }
  const unittest = test.format === 'unittest' || test.format === 'auto' ? UNITTEST.exec(test.command) : null;
  if (unittest && ids.every((id) => /^[\w.]+$/.test(id))) {
    return { command: `${unittest[1]} -v ${quoted}`, kind: test.kind, format: 'unittest', reason: 'rerun' };
  }
  return undefined;
}

/**
 * Runs `failed` again in `dir`, apart from the rest of the suite (a slow test that timed out while other
 * test runs shared the machine passes here). A test that passes now is a flake; one that fails again, or is
 * not reported, stays broken.
 */
export async function rerunFailed(dir: string, test: TestCommand, failed: readonly string[], options: RunTestsOptions): Promise<Rerun> {
  if (failed.length === 0) return { confirmed: [], flaky: [] };
  if (failed.length > MAX_RERUN) return { confirmed: [...failed], flaky: [], note: `not re-run: more than ${MAX_RERUN} tests failed` };
  const command = rerunCommand(test, failed);
  if (command === undefined) return { confirmed: [...failed], flaky: [], note: `not re-run: tests of \`${test.command}\` cannot be named one by one` };
  const run = await runTests(dir, command, options);
  if (run.cancelled || run.timedOut || run.unreadable !== undefined) {
    return { confirmed: [...failed], flaky: [], note: `the re-run could not be read: ${run.timedOut ? 'it timed out' : run.unreadable ?? 'cancelled'}` };
  }
  const flaky = failed.filter((id) => run.results.get(id) === 'passed');
  return { confirmed: failed.filter((id) => !flaky.includes(id)), flaky };
}
