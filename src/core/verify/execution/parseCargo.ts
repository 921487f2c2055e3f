/** Reads the text output of `cargo test` (libtest's default format) into per-test outcomes. */
import { record, stripAnsi, type TestResults, type TestStatus } from './testResults.js';

const RUNNING = /^\s*Running (.+?) \([^)]*\)\s*$/;
const DOC_TESTS = /^\s*Doc-tests (\S+)\s*$/;
const RESULT = /^test (.+) \.\.\. (ok|FAILED|ignored(?:, .*)?|bench:.*)$/;

/**
 * Parses `test <name> ... ok|FAILED|ignored` lines. Each test binary is announced by a `Running <target>
 * (target/debug/deps/<name>-<hash>)` line; ids are prefixed with the target (`unittests src/lib.rs`,
 * `tests/api.rs`) but not the hash, which differs between checkouts, so that equal names in two test
 * binaries stay apart.
 */
export function parseCargoTest(output: string, into: TestResults = new Map()): TestResults {
  let target = '';
  for (const raw of stripAnsi(output).split('\n')) {
    const line = raw.trimEnd();
    const running = RUNNING.exec(line);
    if (running) {
      target = running[1];
      continue;
    }
    const doc = DOC_TESTS.exec(line);
    if (doc) {
      target = `doc-tests ${doc[1]}`;
      continue;
    }
    const result = RESULT.exec(line);
    if (result) record(into, target === '' ? result[1] : `${target}::${result[1]}`, statusOf(result[2]));
  }
  return into;
}

function statusOf(text: string): TestStatus {
  if (text === 'FAILED') return 'failed';
  if (text.startsWith('ignored')) return 'skipped';
  return 'passed';
}
