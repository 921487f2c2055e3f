/** Lazily initialised tree-sitter: one runtime per process, one cached parser per grammar. */

import * as path from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';
import { AgentError, ErrorReason } from '../errors.js';
import { languageForPath, type LanguageInfo } from './languages.js';
import { wasmLocation, type WasmLocation } from './wasmLocation.js';

/** Settings for the tree-sitter runtime. */
export interface TreeSitterOptions {
  /** Folder holding web-tree-sitter.wasm and the grammar files; found automatically when absent. */
  wasmDir?: string;
}

/** Files longer than this are not parsed: they are generated or minified, and parsing them stalls the caller. */
export const MAX_PARSE_CHARS = 4_000_000;

let options: TreeSitterOptions = {};
let runtime: Promise<WasmLocation> | undefined;
const parsers = new Map<string, Promise<Parser>>();

/** Sets where the .wasm files live; call it before the first parse, since the runtime loads only once. */
export function configureTreeSitter(next: TreeSitterOptions): void {
  options = { ...next };
}

/**
 * Parses `text` as the language of `filePath`; undefined when no grammar covers the file or it is too
 * large. The caller owns the tree and must call `tree.delete()` (it lives in wasm memory); prefer `withTree`.
 */
export async function parse(filePath: string, text: string): Promise<Tree | undefined> {
  return (await parseFile(filePath, text))?.tree;
}

/** Parses, hands the tree to `use`, and frees it afterwards; undefined when the file cannot be parsed. */
export async function withTree<T>(
  filePath: string,
  text: string,
  use: (tree: Tree, language: LanguageInfo) => T,
): Promise<T | undefined> {
  const parsed = await parseFile(filePath, text);
  if (parsed === undefined) return undefined;
  try {
    return use(parsed.tree, parsed.language);
  } finally {
    parsed.tree.delete();
  }
}

async function parseFile(filePath: string, text: string): Promise<{ tree: Tree; language: LanguageInfo } | undefined> {
  const language = languageForPath(filePath);
  if (language === undefined || text.length > MAX_PARSE_CHARS) return undefined;
  const parser = await parserFor(language);
  const tree = parser.parse(text);
  if (tree === null) throw new AgentError(ErrorReason.Io, `tree-sitter returned no tree for ${filePath}`);
  return { tree, language };
}

function ensureRuntime(): Promise<WasmLocation> {
  runtime ??= (async () => {
    const location = wasmLocation(options.wasmDir);
    // locateFile is what keeps the runtime working inside a bundle, where its own guess points nowhere.
    await Parser.init({ locateFile: () => location.runtimeFile });
    return location;
  })().catch((error: unknown) => {
    runtime = undefined;
    throw error instanceof AgentError ? error
      : new AgentError(ErrorReason.Config, `tree-sitter failed to start: ${String(error)}`, { cause: error });
  });
  return runtime;
}

function parserFor(info: LanguageInfo): Promise<Parser> {
  let parser = parsers.get(info.grammarFile);
  if (parser === undefined) {
    parser = loadParser(info);
    parsers.set(info.grammarFile, parser);
    // A failed load is forgotten so that a later call (after fixing the files) can succeed.
    parser.catch(() => parsers.delete(info.grammarFile));
  }
  return parser;
}

async function loadParser(info: LanguageInfo): Promise<Parser> {
  const location = await ensureRuntime();
  const file = path.join(location.grammarDir, info.grammarFile);
  let language: Language;
  try {
    language = await Language.load(file);
  } catch (error) {
    throw new AgentError(ErrorReason.Config, `tree-sitter: cannot load the ${info.id} grammar from ${file}: ${String(error)}`, { cause: error });
  }
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}
