/** Where a symbol is defined, across a set of files. */

import { outline, type OutlineEntry, type SymbolKind } from './outline.js';

/** A source file to search. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** One place where a symbol is defined; lines are 1-based. */
export interface Definition {
  readonly path: string;
  readonly name: string;
  readonly kind: SymbolKind;
  readonly startLine: number;
  readonly endLine: number;
  readonly parent?: string;
}

/**
 * The definitions named `name` in `files`, in file order then line order. A qualified name
 * (`Cart.add`, `Vec::dot`) matches only members of that parent. Files no grammar covers are skipped.
 * An `impl` block is not a definition of its type, so it is not reported.
 */
export async function findDefinitions(name: string, files: readonly SourceFile[]): Promise<Definition[]> {
  const { member, owner } = splitQualified(name);
  const found: Definition[] = [];
  for (const file of files) {
    // Most files do not mention the name at all; skipping them avoids parsing the whole set.
    if (member === '' || !file.text.includes(member)) continue;
    const entries = (await outline(file.path, file.text)) ?? [];
    for (const entry of entries) {
      if (matches(entry, member, owner)) found.push(toDefinition(file.path, entry));
    }
  }
  return found;
}

function splitQualified(name: string): { member: string; owner: string | undefined } {
  const parts = name.trim().split(/\.|::/);
  const member = parts.pop() ?? '';
  return { member, owner: parts.length > 0 ? parts.join('.') : undefined };
}

function matches(entry: OutlineEntry, member: string, owner: string | undefined): boolean {
  if (entry.kind === 'impl' || entry.name !== member) return false;
  return owner === undefined || entry.parent?.replace(/::/g, '.') === owner;
}

function toDefinition(path: string, entry: OutlineEntry): Definition {
  return {
    path,
    name: entry.name,
    kind: entry.kind,
    startLine: entry.startLine,
    endLine: entry.endLine,
    ...(entry.parent === undefined ? {} : { parent: entry.parent }),
  };
}
