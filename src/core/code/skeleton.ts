/** A compact view of a large source file: signatures with their line numbers, bodies left out. */

import type { Node } from 'web-tree-sitter';
import { lastRow, outlineOfTree } from './outline.js';
import { outlineRules, type LanguageRules } from './outlineRules.js';
import { withTree } from './treeSitter.js';

/** Options for `skeleton`. */
export interface SkeletonOptions {
  /** Put a `...` line where code was left out (default true). */
  markers?: boolean;
}

/** Longest line shown; a minified file would otherwise put the whole program in one signature. */
const MAX_LINE_CHARS = 300;
/** Lines made only of closers (`}`, `);`, `end`) carry nothing worth a marker. */
const CLOSER_ONLY = /^\s*(?:[)\]}>;,]+|end)?\s*$/;

/**
 * The signature lines of every class, function, method, type and field, numbered like `cat -n`
 * (`    12\tdef foo(a, b):`) and indented as in the source; undefined when no grammar covers the file
 * or it defines nothing, so the caller can fall back to a plain view.
 */
export async function skeleton(filePath: string, text: string, options: SkeletonOptions = {}): Promise<string | undefined> {
  const rows = await withTree(filePath, text, (tree, language) => shownRows(tree.rootNode, outlineRules[language.id]));
  if (rows === undefined || rows.definitions === 0) return undefined;
  return render(text.split('\n'), rows.rows, options.markers ?? true);
}

/** The 0-based rows to show: where the imports start and end, then every signature line. */
function shownRows(root: Node, rules: LanguageRules): { rows: number[]; definitions: number } {
  const rows = new Set<number>();
  const imports = root.namedChildren.filter((child) => child !== null && rules.imports.has(child.type)) as Node[];
  if (imports.length > 0) {
    const last = imports[imports.length - 1];
    rows.add(imports[0].startPosition.row).add(last.startPosition.row).add(lastRow(last));
  }
  const entries = outlineOfTree(root, rules);
  for (const entry of entries) {
    for (let line = entry.startLine; line <= entry.signatureEndLine; line++) rows.add(line - 1);
  }
  return { rows: [...rows].sort((a, b) => a - b), definitions: entries.length };
}

function render(lines: string[], rows: number[], markers: boolean): string {
  const out: string[] = [];
  let previous = -1;
  for (const row of rows) {
    if (markers) pushMarker(out, lines, previous + 1, row);
    out.push(numbered(row + 1, lines[row] ?? ''));
    previous = row;
  }
  if (markers) pushMarker(out, lines, previous + 1, lines.length);
  return out.join('\n');
}

/** Adds one `...` line, indented like the first left-out line, when rows [from, to) hold real code. */
function pushMarker(out: string[], lines: string[], from: number, to: number): void {
  for (let row = from; row < to; row++) {
    const line = stripCr(lines[row] ?? '');
    if (CLOSER_ONLY.test(line)) continue;
    const indent = /^\s*/.exec(line)?.[0] ?? '';
    out.push(`${' '.repeat(6)}\t${indent}...`);
    return;
  }
}

function numbered(lineNumber: number, line: string): string {
  const text = stripCr(line);
  const shown = text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)} …` : text;
  return `${String(lineNumber).padStart(6)}\t${shown}`;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
