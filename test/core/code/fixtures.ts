/** Reads the realistic source files under fixtures/ that the code-module tests parse. */

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The text of the fixture named like a source file (`shop.py`); the files carry an extra `.txt` so
 * that the project's linter and compiler leave these samples of other projects' code alone.
 */
export function fixture(name: string): string {
  return fs.readFileSync(path.join(__dirname, 'fixtures', `${name}.txt`), 'utf8');
}
