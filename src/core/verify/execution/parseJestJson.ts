/** Reads the report jest writes with `--json --outputFile=FILE`. */
import { record, type TestResults, type TestStatus } from './testResults.js';

const STATUS: Record<string, TestStatus> = { passed: 'passed', failed: 'failed', pending: 'skipped', skipped: 'skipped', todo: 'skipped', disabled: 'skipped', focused: 'passed' };

/**
 * Per-test outcomes of one jest JSON report; a test's id is `file > describe > ... > title`. A test file that
 * could not run at all (a syntax error, a module that no longer loads) has no tests in the report: it is one
 * test of its own, `file`, that errored, so that every test it held before reads as broken.
 */
export function parseJestJson(text: string, into: TestResults = new Map()): TestResults {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    return into;
  }
  const files = (report as { testResults?: unknown } | null)?.testResults;
  if (!Array.isArray(files)) return into;
  for (const file of files as { name?: unknown; status?: unknown; assertionResults?: unknown }[]) {
    const name = typeof file?.name === 'string' ? file.name : '(unnamed test file)';
    const tests = Array.isArray(file?.assertionResults) ? file.assertionResults as { ancestorTitles?: unknown; title?: unknown; status?: unknown }[] : [];
    if (tests.length === 0) {
      if (file?.status === 'failed') record(into, name, 'error');
      continue;
    }
    for (const test of tests) {
      const ancestors = Array.isArray(test.ancestorTitles) ? test.ancestorTitles.filter((t): t is string => typeof t === 'string') : [];
      const title = typeof test.title === 'string' ? test.title : '(untitled)';
      record(into, [name, ...ancestors, title].join(' > '), STATUS[String(test.status)] ?? 'failed');
    }
  }
  return into;
}
