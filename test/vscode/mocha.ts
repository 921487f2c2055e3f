import * as path from 'node:path';
import { loadSuites } from './loadSuites.js';
import { isSkip } from './suite.js';

// Mocha's BDD globals, present when @vscode/test-cli loads this file (see .vscode-test.mjs).
declare const describe: (name: string, define: () => void) => void;
declare const it: (name: string, fn: (this: { skip(): void }) => Promise<void>) => { timeout(ms: number): void };
declare const after: (fn: () => Promise<void>) => void;

// Registers the same suites with mocha, for machines that run them through @vscode/test-cli instead of scripts/e2e.sh.
for (const suite of loadSuites(path.join(__dirname, 'suites'))) {
  describe(suite.name, () => {
    for (const test of suite.tests) {
      it(test.name, async function () {
        try {
          await test.fn();
        } catch (error) {
          if (isSkip(error)) this.skip();
          throw error;
        }
      }).timeout(test.timeoutMs);
    }
    for (const fn of suite.afterAll) after(async () => { await fn(); });
  });
}
