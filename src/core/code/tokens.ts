/** Token sequences that ignore layout and comments, for deciding whether two versions of a file are equivalent. */

import * as path from 'node:path';
import type { Tree } from 'web-tree-sitter';
import { withTree } from './treeSitter.js';

/** Grammar node types whose names contain "comment" are comments in every grammar we ship. */
const COMMENT = /comment/;
/**
 * Python's block structure lives in indentation, which tree-sitter keeps as invisible tokens; marking
 * where each block opens and closes keeps a re-indented statement from looking equivalent.
 */
const BLOCK_OPEN = '\u0000{';
const BLOCK_CLOSE = '\u0000}';

/**
 * The leaf tokens of `text` with comments dropped and whitespace ignored (string contents are kept
 * verbatim). Files no grammar covers (or too large to parse) get a regex tokenizer that knows the
 * usual comment styles.
 */
export async function normalizedTokens(filePath: string, text: string): Promise<string[]> {
  const fromTree = await withTree(filePath, text, (tree, language) => treeTokens(tree, text, language.id === 'python' ? 'block' : undefined));
  return fromTree ?? regexTokens(filePath, text);
}

function treeTokens(tree: Tree, text: string, blockType: string | undefined): string[] {
  const tokens: string[] = [];
  let covered = 0;
  // Text no leaf covers (a grammar that hides a token) still counts, split on whitespace.
  const pushGap = (until: number): void => {
    const gap = text.slice(covered, until).trim();
    if (gap !== '') tokens.push(...gap.split(/\s+/));
  };
  const cursor = tree.walk();
  try {
    for (;;) {
      const { nodeType: type, startIndex: start, endIndex: end } = cursor;
      if (COMMENT.test(type)) {
        pushGap(start);
        covered = Math.max(covered, end);
      } else {
        if (type === blockType) tokens.push(BLOCK_OPEN);
        if (cursor.gotoFirstChild()) continue;
        pushGap(start);
        const leaf = text.slice(start, end);
        // Anonymous whitespace tokens (Go's newline terminator) are layout; named ones are string contents.
        if (leaf !== '' && (cursor.nodeIsNamed || leaf.trim() !== '')) tokens.push(leaf);
        covered = Math.max(covered, end);
        if (type === blockType) tokens.push(BLOCK_CLOSE);
      }
      if (!nextNode(cursor, blockType, tokens)) break;
    }
  } finally {
    cursor.delete();
  }
  pushGap(text.length);
  return tokens;
}

/** Moves to the next node in document order, closing Python blocks on the way up; false at the end. */
function nextNode(cursor: ReturnType<Tree['walk']>, blockType: string | undefined, tokens: string[]): boolean {
  while (!cursor.gotoNextSibling()) {
    if (!cursor.gotoParent()) return false;
    if (cursor.nodeType === blockType) tokens.push(BLOCK_CLOSE);
  }
  return true;
}

type CommentStyle = 'hash' | 'slash' | 'dash' | 'markup';

const STYLE_BY_EXTENSION: Readonly<Record<string, CommentStyle>> = {
  '.yaml': 'hash', '.yml': 'hash', '.toml': 'hash', '.cfg': 'hash', '.ini': 'hash', '.conf': 'hash',
  '.r': 'hash', '.pl': 'hash', '.pm': 'hash', '.mk': 'hash', '.cmake': 'hash', '.properties': 'hash',
  '.zsh': 'hash', '.fish': 'hash', '.ps1': 'hash', '.tf': 'hash', '.nix': 'hash', '.jl': 'hash', '.ex': 'hash', '.exs': 'hash',
  '.kt': 'slash', '.kts': 'slash', '.swift': 'slash', '.scala': 'slash', '.dart': 'slash', '.proto': 'slash',
  '.json5': 'slash', '.jsonc': 'slash', '.groovy': 'slash', '.gradle': 'slash', '.zig': 'slash', '.sol': 'slash',
  '.m': 'slash', '.mm': 'slash', '.scss': 'slash', '.less': 'slash', '.vue': 'slash', '.svelte': 'slash',
  '.sql': 'dash', '.lua': 'dash', '.hs': 'dash',
  '.html': 'markup', '.htm': 'markup', '.xml': 'markup', '.svg': 'markup', '.md': 'markup',
};

const STYLE_BY_BASENAME: Readonly<Record<string, CommentStyle>> = {
  Makefile: 'hash', Dockerfile: 'hash', 'CMakeLists.txt': 'hash', '.gitignore': 'hash', '.env': 'hash',
};

const COMMENT_PATTERN: Readonly<Record<CommentStyle, string>> = {
  hash: String.raw`(?<=^|\s)#[^\n]*`,
  slash: String.raw`\/\/[^\n]*|\/\*[^]*?\*\/`,
  dash: String.raw`--[^\n]*|\/\*[^]*?\*\/`,
  markup: String.raw`<!--[^]*?-->`,
};

const STRING = String.raw`"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|\x60(?:\\.|[^\x60\\])*\x60`;
const WORD_OR_SYMBOL = String.raw`[\p{L}\p{N}_]+|\S`;

/** Strings stay whole so their spacing counts; comments (when the style is known) are dropped. */
function regexTokens(filePath: string, text: string): string[] {
  const base = path.basename(filePath);
  const extension = path.extname(base).toLowerCase();
  const style = Object.hasOwn(STYLE_BY_BASENAME, base) ? STYLE_BY_BASENAME[base]
    : Object.hasOwn(STYLE_BY_EXTENSION, extension) ? STYLE_BY_EXTENSION[extension] : undefined;
  const comment = style === undefined ? undefined : COMMENT_PATTERN[style];
  const parts = comment === undefined ? [STRING, WORD_OR_SYMBOL] : [`(?<comment>${comment})`, STRING, WORD_OR_SYMBOL];
  const pattern = new RegExp(parts.join('|'), 'gmu');
  const tokens: string[] = [];
  for (const match of text.matchAll(pattern)) {
    if (match.groups?.comment === undefined) tokens.push(match[0]);
  }
  return tokens;
}
