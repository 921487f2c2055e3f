/** Reads the short test summary that `pytest -rA` prints: one line per test with its outcome and node id. */
import { record, stripAnsi, type TestResults, type TestStatus } from './testResults.js';

const OUTCOMES: Record<string, TestStatus> = {
  PASSED: 'passed',
  FAILED: 'failed',
  ERROR: 'error',
  SKIPPED: 'skipped',
  XFAIL: 'xfailed',
  XPASS: 'xpassed',
};

const LINE = /^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S.*)$/;
const SKIPPED = /^SKIPPED \[\d+\] (\S+?):(\d+): /;

/**
 * Parses the summary section of pytest output run with `-rA`. Skipped tests are reported by location, not by
 * node id (`SKIPPED [1] tests/test_a.py:10: reason`), so their ids are `file:line`. An `ERROR` line naming a
 * file alone is a collection error of that whole file.
 */
export function parsePytestSummary(output: string, into: TestResults = new Map()): TestResults {
  const lines = stripAnsi(output).split('\n');
  const start = lines.findIndex((line) => /^=+ short test summary info =+$/.test(line.trim()));
  if (start < 0) return into;
  for (const raw of lines.slice(start + 1)) {
    const line = raw.trimEnd();
    if (/^=+ .* =+$/.test(line)) break;
    const match = LINE.exec(line);
    if (match) {
      record(into, nodeId(match[2]), OUTCOMES[match[1]]);
      continue;
    }
    const skipped = SKIPPED.exec(line);
    if (skipped) record(into, `${skipped[1]}:${skipped[2]}`, 'skipped');
  }
  return into;
}

/**
 * The node id at the start of `rest`: `FAILED tests/test_a.py::test_b[x - y] - AssertionError: ...` ends at
 * the first " - " outside parametrisation brackets, which may themselves contain " - ".
 */
function nodeId(rest: string): string {
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i];
    if (ch === '[') depth++;
    else if (ch === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0 && rest.startsWith(' - ', i)) return rest.slice(0, i);
  }
  return rest;
}
