import { languageForPath } from '../code/languages.js';
import { newSyntaxErrors } from '../code/syntaxErrors.js';
import type { SignalValue } from './signalTypes.js';
import { unavailable } from './verifiable.js';

/** A changed file's text before (undefined when added) and after (undefined when deleted) the patch. */
export interface FileChange {
  path: string;
  before?: string;
  after?: string;
}

/** Signal 3: tree-sitter finds no new ERROR or MISSING nodes in the changed files. Score = -(new errors). */
export async function syntaxSignal(changes: readonly FileChange[]): Promise<SignalValue> {
  const parsed = changes.filter((c) => c.after !== undefined && languageForPath(c.path));
  if (parsed.length === 0) return unavailable('no changed file in a language the parser knows');
  const problems: string[] = [];
  for (const change of parsed) {
    const issues = await newSyntaxErrors(change.path, change.before, change.after!);
    for (const issue of issues ?? []) problems.push(`${change.path}:${issue.line}`);
  }
  if (problems.length === 0) return { status: 'ok', score: 0, detail: `no new syntax errors in ${parsed.length} file(s)` };
  return { status: 'ok', score: -problems.length, detail: `${problems.length} new syntax error(s): ${problems.slice(0, 3).join(', ')}` };
}
