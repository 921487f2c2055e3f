/** Why a test run's printed outcomes are not the whole run: a collection error, a crash, a cut log, a summary without passes. */
import { stripAnsi } from './testResults.js';

// pytest's last line: "2 failed, 4 passed in 0.03s", "==== 1 error in 0.08s ====", "no tests ran in 0.01s".
const PYTEST_FINAL = /^=*\s*(no tests ran|\d+ [a-z]+(?:, \d+ [a-z]+)*) in \d+(?:\.\d+)?s\b.*$/;
const SUMMARY_LINE = /^(PASSED|FAILED|ERROR|XFAIL|XPASS) /;
// What pytest's final line counts, and which short-summary line prints each such test.
const COUNTED: Record<string, string> = { passed: 'PASSED', failed: 'FAILED', error: 'ERROR', errors: 'ERROR', xfailed: 'XFAIL', xpassed: 'XPASS' };

/**
 * Why the per-test outcomes read from pytest's output do not cover the whole run, or undefined when they do.
 * With a JUnit report (written when the session ends) only an interrupted session is a problem; from the text
 * alone, the final summary line must be there and every test it counts must have its line in the short
 * summary (`-q` prints only failures there, `-rA` prints every outcome).
 */
export function pytestProblem(output: string, fromReport: boolean): string | undefined {
  const lines = stripAnsi(output).split('\n').map((line) => line.trim());
  const collecting = lines.map((line) => /^_+ ERROR collecting (\S+) _+$/.exec(line)?.[1]).filter((f): f is string => f !== undefined);
  const interrupted = lines.find((line) => /^!+ .*(Interrupted|stopping after).* !+$/.test(line));
  if (interrupted !== undefined) {
    const what = interrupted.replace(/^!+\s*|\s*!+$/g, '');
    const files = collecting.length > 0 ? `: ${collecting.slice(0, 3).join(', ')}${collecting.length > 3 ? ', ...' : ''}` : '';
    return `pytest stopped before running every test (${what}${files})`;
  }
  if (fromReport) return undefined;
  const final = [...lines].reverse().find((line) => PYTEST_FINAL.test(line));
  if (final === undefined) {
    const last = lines.filter(Boolean).at(-1)?.slice(0, 200) ?? '(no output)';
    return `the output ends before pytest's final summary line (a crash, a kill or a cut log); its last line: ${last}`;
  }
  const printed = countSummaryLines(lines);
  for (const [, count, word] of final.matchAll(/(\d+) ([a-z]+)/g)) {
    const kind = COUNTED[word];
    if (kind !== undefined && Number(count) > (printed.get(kind) ?? 0)) {
      return `pytest counts ${count} ${word} but names ${printed.get(kind) ?? 0} of them (run it with -rA to print every outcome)`;
    }
  }
  return undefined;
}

/**
 * The test files pytest could not collect when that alone stopped the session ("Interrupted: 1 error during
 * collection"), else none. With a candidate applied that is evidence, not noise: the module no longer imports,
 * and every test in it that passed before is broken.
 */
export function pytestUncollected(output: string): string[] {
  const lines = stripAnsi(output).split('\n').map((line) => line.trim());
  if (!lines.some((line) => /^!+ Interrupted: \d+ errors? during collection !+$/.test(line))) return [];
  return lines.map((line) => /^_+ ERROR collecting (\S+) _+$/.exec(line)?.[1]).filter((f): f is string => f !== undefined);
}

/** Why unittest's verbose output does not cover the whole run: it must reach its "Ran N tests" line. */
export function unittestProblem(output: string): string | undefined {
  if (/^Ran \d+ tests? in /m.test(stripAnsi(output))) return undefined;
  const last = stripAnsi(output).split('\n').map((line) => line.trim()).filter(Boolean).at(-1)?.slice(0, 200) ?? '(no output)';
  return `the output ends before unittest's "Ran N tests" line (a crash, a kill or a cut log); its last line: ${last}`;
}

function countSummaryLines(lines: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const start = lines.findIndex((line) => /^=+ short test summary info =+$/.test(line));
  if (start < 0) return counts;
  for (const line of lines.slice(start + 1)) {
    const kind = SUMMARY_LINE.exec(line)?.[1];
    if (kind !== undefined) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}
