/** Reads the verbose output of Python's unittest (`python3 -m unittest -v`) into per-test outcomes. */
import { record, stripAnsi, type TestResults, type TestStatus } from './testResults.js';

// `test_x (pkg.mod.Class.test_x) ... ok`; before Python 3.11 the parentheses hold `pkg.mod.Class` only. A
// subtest adds its parameters in a second pair of parentheses. The result may follow on a later line, after a
// docstring line or output the test printed.
const START = /^\s*(\S+) \(([\w.]+)\)(?: \([^)]*\))?(?:$| \.\.\. ?(.*)$)/;
const RESULT = /^(?:.* \.\.\. )?(ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$/;

/**
 * Parses `-v` progress lines. A failing subtest fails its test; an import error of a test module is reported
 * by unittest as a test of its own (`unittest.loader._FailedTest.<module>`) and kept as an error.
 */
export function parseUnittestVerbose(output: string, into: TestResults = new Map()): TestResults {
  let pending: string | null = null;
  for (const raw of stripAnsi(output).split('\n')) {
    const line = raw.trimEnd();
    // The details of failures follow the progress lines; nothing after the first separator is a result.
    if (/^(=|-){20,}$/.test(line) || /^Ran \d+ tests? in /.test(line)) break;
    const start = START.exec(line);
    if (start) {
      pending = unittestId(start[1], start[2]);
      const status = start[3] === undefined ? undefined : statusOf(start[3].trim());
      if (status !== undefined) {
        record(into, pending, status);
        pending = null;
      }
      continue;
    }
    if (pending === null) continue;
    const result = RESULT.exec(line.trim());
    if (result) {
      record(into, pending, statusOf(result[1]) ?? 'error');
      pending = null;
    }
  }
  return into;
}

function unittestId(name: string, dotted: string): string {
  return dotted === name || dotted.endsWith(`.${name}`) ? dotted : `${dotted}.${name}`;
}

function statusOf(text: string): TestStatus | undefined {
  if (text === 'ok') return 'passed';
  if (text === 'expected failure') return 'xfailed';
  if (text === 'unexpected success') return 'xpassed';
  if (text === 'FAIL') return 'failed';
  if (text === 'ERROR') return 'error';
  if (text.startsWith('skipped')) return 'skipped';
  return undefined;
}
