/** Reads the event stream of `go test -json` into per-test outcomes. */
import { record, type TestResults } from './testResults.js';

interface GoEvent {
  Action?: string;
  Package?: string;
  Test?: string;
}

/**
 * Parses `go test -json` events; a test's id is `package/TestName` (subtests `package/TestName/sub`). A
 * package that failed without any failing test of its own (a build failure, a panic in init, a timeout) gets
 * one pseudo test, `package (package)`, so that breaking the build counts as breaking a test.
 */
export function parseGoTestJson(output: string, into: TestResults = new Map()): TestResults {
  const failedPackages = new Set<string>();
  const packagesWithFailingTests = new Set<string>();
  const packagesWithTests = new Set<string>();
  for (const line of output.split('\n')) {
    const event = parseEvent(line);
    if (event?.Package === undefined) continue;
    const { Action: action, Package: pkg, Test: test } = event;
    if (test === undefined) {
      if (action === 'fail') failedPackages.add(pkg);
      continue;
    }
    const id = `${pkg}/${test}`;
    if (action === 'pass') record(into, id, 'passed');
    else if (action === 'skip') record(into, id, 'skipped');
    else if (action === 'fail') {
      record(into, id, 'failed');
      packagesWithFailingTests.add(pkg);
    }
    packagesWithTests.add(pkg);
  }
  for (const pkg of failedPackages) {
    if (!packagesWithFailingTests.has(pkg)) record(into, `${pkg} (package)`, packagesWithTests.has(pkg) ? 'failed' : 'error');
  }
  return into;
}

function parseEvent(line: string): GoEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as GoEvent) : undefined;
  } catch {
    return undefined;
  }
}
