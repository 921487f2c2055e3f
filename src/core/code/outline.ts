/** The definitions of a source file (classes, functions, methods, types, fields) with their line ranges. */

import type { Node } from 'web-tree-sitter';
import { outlineRules, type DefinitionRule, type LanguageRules, type SymbolKind } from './outlineRules.js';
import { withTree } from './treeSitter.js';

export type { SymbolKind } from './outlineRules.js';

/** One definition in a file; lines are 1-based and inclusive. */
export interface OutlineEntry {
  readonly name: string;
  readonly kind: SymbolKind;
  /** First line, including decorators, attributes and `export`. */
  readonly startLine: number;
  readonly endLine: number;
  /** Last line of the signature: the skeleton shows startLine..signatureEndLine and leaves out the body. */
  readonly signatureEndLine: number;
  /** Name of the enclosing definition, or the receiver/qualifier type of a method defined outside it. */
  readonly parent?: string;
  /** Nesting depth in the outline, 0 for top-level definitions. */
  readonly depth: number;
}

/** Kinds whose bodies hold members; a function's body holds only implementation. */
const CONTAINERS = new Set<SymbolKind>(['class', 'interface', 'struct', 'enum', 'trait', 'impl', 'module', 'type', 'rule']);
const TYPE_CONTAINERS = new Set<SymbolKind>(['class', 'interface', 'struct', 'enum', 'trait', 'impl', 'type']);

/** Lists the definitions in `text` in source order; undefined when no grammar covers `filePath`. */
export async function outline(filePath: string, text: string): Promise<OutlineEntry[] | undefined> {
  return withTree(filePath, text, (tree, language) => outlineOfTree(tree.rootNode, outlineRules[language.id]));
}

/** The outline of an already parsed tree. */
export function outlineOfTree(root: Node, rules: LanguageRules): OutlineEntry[] {
  const out: OutlineEntry[] = [];
  collect(root, rules, undefined, out, undefined);
  return out;
}

/** The last row a node covers; a node that ends at column 0 ends on the row before. */
export function lastRow(node: Node): number {
  const { row, column } = node.endPosition;
  return column === 0 && row > node.startPosition.row ? row - 1 : row;
}

function collect(container: Node, rules: LanguageRules, parent: OutlineEntry | undefined, out: OutlineEntry[], start: number | undefined): void {
  let leadingStart: number | undefined;
  for (const child of container.namedChildren) {
    if (child === null) continue;
    if (rules.leading.has(child.type)) {
      leadingStart ??= child.startPosition.row;
      continue;
    }
    visit(child, rules, parent, out, start ?? leadingStart);
    leadingStart = undefined;
  }
}

function visit(node: Node, rules: LanguageRules, parent: OutlineEntry | undefined, out: OutlineEntry[], start: number | undefined): void {
  const rule = rules.definitions.get(node.type);
  if (rule !== undefined) {
    define(node, rule, rules, parent, out, start);
  } else if (rules.wrappers.has(node.type)) {
    collect(node, rules, parent, out, start ?? node.startPosition.row);
  } else if (rules.transparent.has(node.type)) {
    collect(node, rules, parent, out, undefined);
  }
}

function define(node: Node, rule: DefinitionRule, rules: LanguageRules, parent: OutlineEntry | undefined, out: OutlineEntry[], start: number | undefined): void {
  const name = rule.name === undefined ? node.childForFieldName('name')?.text : rule.name(node);
  if (name === undefined || name === '') return;
  const kind = memberKind(typeof rule.kind === 'function' ? rule.kind(node) : rule.kind, parent);
  const body = rule.body === undefined ? node.childForFieldName('body') : rule.body(node);
  const startRow = Math.min(start ?? node.startPosition.row, node.startPosition.row);
  const owner = rule.parent?.(node) ?? parent?.name;
  const entry: OutlineEntry = {
    name: name.replace(/\s+/g, ' '),
    kind,
    startLine: startRow + 1,
    endLine: lastRow(node) + 1,
    signatureEndLine: signatureEnd(node, body, kind) + 1,
    ...(owner === undefined ? {} : { parent: owner }),
    depth: parent === undefined ? 0 : parent.depth + 1,
  };
  out.push(entry);
  if (rule.members === true && body !== null && CONTAINERS.has(kind)) collect(body, rules, entry, out, undefined);
}

/** A function inside a class is a method, a variable inside one a field. */
function memberKind(kind: SymbolKind, parent: OutlineEntry | undefined): SymbolKind {
  if (parent === undefined || !TYPE_CONTAINERS.has(parent.kind)) return kind;
  if (kind === 'function') return 'method';
  return kind === 'variable' ? 'field' : kind;
}

/** The row where the signature ends: the token before the body, or the whole node when it has none. */
function signatureEnd(node: Node, body: Node | null, kind: SymbolKind): number {
  const first = node.startPosition.row;
  // A field's or variable's value can be an object literal of a hundred lines; its first line says enough.
  if (kind === 'field' || kind === 'variable') return first;
  const last = lastRow(node);
  if (body === null) return last;
  const before = body.previousSibling;
  const row = before === null ? body.startPosition.row : lastRow(before);
  return Math.max(first, Math.min(row, last));
}
