/** Syntax errors as tree-sitter sees them: ERROR nodes (unparseable text) and MISSING nodes (inserted tokens). */

import type { Node } from 'web-tree-sitter';
import { withTree } from './treeSitter.js';

/** One syntax error; line and column are 1-based. */
export interface SyntaxIssue {
  readonly line: number;
  readonly column: number;
  /** ERROR: text the grammar could not place; MISSING: a token the parser had to invent. */
  readonly kind: 'ERROR' | 'MISSING';
  /** The start of the offending text for ERROR, the expected token for MISSING. */
  readonly text: string;
}

interface Found {
  readonly issue: SyntaxIssue;
  readonly signature: string;
}

const SNIPPET_CHARS = 60;
const SIGNATURE_CHARS = 500;

/** The syntax errors in `text`, in source order; undefined when no grammar covers `filePath`. */
export async function syntaxErrors(filePath: string, text: string): Promise<SyntaxIssue[] | undefined> {
  const found = await find(filePath, text);
  return found?.map((f) => f.issue);
}

/**
 * The errors of `after` that `before` did not have; undefined when no grammar covers the file.
 * `before` is undefined for a new file, whose errors are then all new.
 *
 * Errors are matched by content, not position: kind, node type and the offending text with
 * whitespace collapsed, counted as a multiset. An edit above a pre-existing error moves it to another
 * line, and matching by line would report it as new in every changed file that already had one; by
 * content it stays matched wherever it moved, while a fresh error with the same text as an old one
 * still counts because the count goes up. The price: an edit that fixes one error and adds an
 * identical one elsewhere goes unnoticed, and an edit inside a broken region changes its text and
 * so reports it, which is fair, since the edit touched that code.
 */
export async function newSyntaxErrors(filePath: string, before: string | undefined, after: string): Promise<SyntaxIssue[] | undefined> {
  const afterFound = await find(filePath, after);
  if (afterFound === undefined) return undefined;
  const remaining = new Map<string, number>();
  for (const f of (before === undefined ? [] : await find(filePath, before)) ?? []) {
    remaining.set(f.signature, (remaining.get(f.signature) ?? 0) + 1);
  }
  const fresh: SyntaxIssue[] = [];
  for (const f of afterFound) {
    const left = remaining.get(f.signature) ?? 0;
    if (left > 0) remaining.set(f.signature, left - 1);
    else fresh.push(f.issue);
  }
  return fresh;
}

function find(filePath: string, text: string): Promise<Found[] | undefined> {
  return withTree(filePath, text, (tree) => {
    const out: Found[] = [];
    if (tree.rootNode.hasError) collect(tree.rootNode, out);
    return out;
  });
}

/** Reports the outermost ERROR nodes and MISSING nodes, descending only where an error lies below. */
function collect(node: Node, out: Found[]): void {
  if (node.isMissing) {
    out.push(found(node, 'MISSING', node.type, `MISSING ${node.type} in ${node.parent?.type ?? ''}`));
    return;
  }
  if (node.isError) {
    const collapsed = node.text.replace(/\s+/g, ' ').trim();
    out.push(found(node, 'ERROR', snippet(node.text), `ERROR ${collapsed.slice(0, SIGNATURE_CHARS)}`));
    return;
  }
  for (const child of node.children) {
    if (child !== null && (child.hasError || child.isMissing)) collect(child, out);
  }
}

function found(node: Node, kind: SyntaxIssue['kind'], text: string, signature: string): Found {
  const { row, column } = node.startPosition;
  return { issue: { line: row + 1, column: column + 1, kind, text }, signature };
}

function snippet(text: string): string {
  const first = text.trimStart().split('\n')[0].trimEnd();
  return first.length > SNIPPET_CHARS ? `${first.slice(0, SNIPPET_CHARS)}…` : first;
}
