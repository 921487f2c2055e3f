/** What the local verifier reads from one candidate patch: files by role, sizes, changed functions and identifiers. */

import { normalizePatch } from '../../worktree/diversity.js';
import { parsePatch, type FilePatch } from '../../worktree/parse.js';

/**
 * Patches longer than this are analysed on their first MAX_PATCH_CHARS characters only (their full length
 * still counts as a size). Real candidates can carry multi-megabyte vendored or generated files, and the
 * verifier must rank every candidate in well under a second.
 */
export const MAX_PATCH_CHARS = 200_000;
/** Identifiers kept per patch; beyond that the set says nothing new and costs time in every comparison. */
const MAX_IDENTIFIERS = 4_000;

/** Why a changed file is there: the fix itself, a test, or a scratch file the agent left behind. */
export type FileRole = 'source' | 'test' | 'scratch';

/** The facts of one patch that the features are computed from. */
export interface PatchFacts {
  /** Length of the whole patch in characters, before any cap. */
  chars: number;
  files: Array<{ path: string; role: FileRole; status: FilePatch['status'] }>;
  hunks: number;
  /** Added and removed lines in source files, blank ones excluded. */
  sourceAdded: number;
  sourceRemoved: number;
  /** Added and removed lines in all files, blank ones excluded. */
  allAdded: number;
  allRemoved: number;
  /** Added source lines that call print(, that add an `except`, and that are only a comment. */
  addedPrints: number;
  addedExcepts: number;
  addedComments: number;
  /** Functions and classes the source hunks sit in or define (from hunk headers and def/class lines). */
  functions: Set<string>;
  /** Identifiers on changed source lines and in the source hunks' headers. */
  identifiers: Set<string>;
  /** Canonical form of the whole patch (whitespace-insensitive), for exact agreement. */
  normalized: string;
  /** Changed source lines after normalization, each qualified by its file. */
  sourceLines: Set<string>;
  /** Sorted source paths joined by newlines, for file-set agreement. */
  sourceFileKey: string;
}

const TEST_PATH = /(^|\/)(tests?|testing)\/|(^|\/)(test_[^/]*|[^/]*_tests?\.[a-z]+|conftest\.py)$/i;
const SCRATCH_NAME = /(^|\/)[^/]*(reproduc|replicat|scratch|debug_|temp_|tmp_)[^/]*$|\.(orig|rej|bak|swp)$/i;
/** Build output and caches: generated, never the fix. */
const GENERATED = /(^|\/)(build|dist|__pycache__|\.tox|\.eggs|[^/]*\.egg-info)\/|\.py[co]$/;
const DEF_LINE = /^\s*(?:async\s+)?(?:def|class|function|func|fn)\s+([A-Za-z_][A-Za-z0-9_]*)/;
const HUNK_CONTEXT = /^@@[^@]*@@\s?(.*)$/;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]{2,}/g;

/**
 * The role of a changed file. Scratch: reproduction scripts, editor leftovers, build output, and any new file
 * at the repository root (agents leave their scripts there).
 */
export function fileRole(path: string, status: FilePatch['status']): FileRole {
  if (SCRATCH_NAME.test(path) || GENERATED.test(path)) return 'scratch';
  if (TEST_PATH.test(path)) return 'test';
  if (status === 'added' && !path.includes('/')) return 'scratch';
  return 'source';
}

/** Reads the facts of `patch`, analysing at most MAX_PATCH_CHARS characters of it. */
export function patchFacts(patch: string): PatchFacts {
  const text = capPatch(patch);
  const parsed = parsePatch(text);
  const facts: PatchFacts = {
    chars: patch.length, files: [], hunks: 0, sourceAdded: 0, sourceRemoved: 0, allAdded: 0, allRemoved: 0,
    addedPrints: 0, addedExcepts: 0, addedComments: 0, functions: new Set(), identifiers: new Set(),
    normalized: normalizePatch(text), sourceLines: new Set(), sourceFileKey: '',
  };
  const sourceSections: string[] = [];
  for (const file of parsed) {
    const path = file.newPath ?? file.oldPath ?? '';
    const role = fileRole(path, file.status);
    facts.files.push({ path, role, status: file.status });
    if (file.binary) continue;
    readBody(file.body, role === 'source', facts);
    if (role === 'source') sourceSections.push([...file.header, ...file.body].join('\n'));
  }
  facts.sourceLines = qualifiedLines(normalizePatch(sourceSections.join('\n')));
  facts.sourceFileKey = [...new Set(facts.files.filter((f) => f.role === 'source').map((f) => f.path))].sort().join('\n');
  return facts;
}

/** The patch cut at the last line break before MAX_PATCH_CHARS. */
function capPatch(patch: string): string {
  if (patch.length <= MAX_PATCH_CHARS) return patch;
  const cut = patch.lastIndexOf('\n', MAX_PATCH_CHARS);
  return patch.slice(0, cut > 0 ? cut : MAX_PATCH_CHARS);
}

function readBody(body: string[], source: boolean, facts: PatchFacts): void {
  for (const line of body) {
    if (line.startsWith('@@')) {
      facts.hunks++;
      if (source) readHunkHeader(line, facts);
      continue;
    }
    const sign = line[0];
    if (sign !== '+' && sign !== '-') continue;
    const content = line.slice(1).trim();
    if (content === '') continue;
    if (sign === '+') facts.allAdded++;
    else facts.allRemoved++;
    if (!source) continue;
    if (sign === '+') {
      facts.sourceAdded++;
      if (/\bprint\(/.test(content)) facts.addedPrints++;
      if (/^except\b/.test(content)) facts.addedExcepts++;
      if (/^(#|\/\/)/.test(content)) facts.addedComments++;
    } else facts.sourceRemoved++;
    const def = DEF_LINE.exec(content);
    if (def) facts.functions.add(def[1]);
    addIdentifiers(content, facts.identifiers);
  }
}

function readHunkHeader(line: string, facts: PatchFacts): void {
  const context = HUNK_CONTEXT.exec(line)?.[1] ?? '';
  const def = DEF_LINE.exec(context);
  if (def) facts.functions.add(def[1]);
  addIdentifiers(context, facts.identifiers);
}

/** Adds the identifiers of `text` (three characters or more) to `into`, up to MAX_IDENTIFIERS. */
export function addIdentifiers(text: string, into: Set<string>): void {
  for (const match of text.matchAll(IDENTIFIER)) {
    if (into.size >= MAX_IDENTIFIERS) return;
    into.add(match[0]);
  }
}

/** The lines of a normalized patch, each qualified by its file, so that equal lines in two files differ. */
function qualifiedLines(normalized: string): Set<string> {
  const set = new Set<string>();
  let file = '';
  for (const line of normalized.split('\n')) {
    if (line.startsWith('file ')) file = line;
    else if (line) set.add(`${file}\0${line}`);
  }
  return set;
}
