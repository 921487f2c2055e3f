import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadSuites } from './loadSuites.js';
import { LOG_PREFIX, runSuites, type TestResult } from './runSuites.js';

/** Rewrites the results file after every test, so a run stopped by its time limit still shows what ran. */
function writeResults(results: readonly TestResult[], running: string | undefined): void {
  const file = process.env.ENTROPO_E2E_RESULTS;
  if (!file) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ results, running, done: running === undefined }, null, 2));
}

/**
 * The module the editor loads as `extensionTestsPath`: it calls `run()` inside the extension host and
 * reports exit code 0 when the promise resolves, 1 when it rejects.
 */
export async function run(): Promise<void> {
  // The bundles carry inline source maps; with this, stack traces name the .ts lines of the suites.
  process.setSourceMapsEnabled(true);
  const suites = loadSuites(path.join(__dirname, 'suites'));
  const grep = process.env.ENTROPO_E2E_GREP ? new RegExp(process.env.ENTROPO_E2E_GREP) : undefined;
  const results = await runSuites(suites, { grep, log: (line) => console.log(line), onProgress: writeResults });
  const count = (status: TestResult['status']) => results.filter((result) => result.status === status).length;
  console.log(`${LOG_PREFIX} extension host: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
  if (count('failed') > 0) throw new Error(`${count('failed')} of ${results.length} extension-host tests failed`);
  // With a filter, the matching tests may all be UI steps; without one, an empty run means a broken setup.
  if (results.length === 0 && !grep) throw new Error('no extension-host test ran');
}
