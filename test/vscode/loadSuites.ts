import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Suite } from './suite.js';

/** A suite file that failed to load, reported as one failed test so the run cannot pass silently. */
function loadFailure(file: string, error: unknown): Suite {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { name: path.basename(file, '.js'), tests: [{ name: 'loads', fn: () => { throw new Error(message); }, timeoutMs: 1_000 }], afterAll: [] };
}

function loadSuite(file: string): Suite {
  try {
    // Each suite is its own bundle beside the runner's, so it is loaded at run time by path.
    const loaded = createRequire(__filename)(file) as { default?: Suite };
    if (!loaded.default || !Array.isArray(loaded.default.tests)) throw new Error(`${file} does not default-export suite(...)`);
    return loaded.default;
  } catch (error) {
    return loadFailure(file, error);
  }
}

/** Loads every compiled suite in `dir` (out/test/suites/*.js), in file-name order. */
export function loadSuites(dir: string): Suite[] {
  return readdirSync(dir).filter((file) => file.endsWith('.js')).sort().map((file) => loadSuite(path.join(dir, file)));
}
