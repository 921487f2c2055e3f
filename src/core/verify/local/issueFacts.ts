/** What the local verifier reads from an issue: code identifiers, mentioned files and modules, traceback frames. */

import { addIdentifiers } from './patchFacts.js';

/** Issue text beyond this length is not read; long logs add frames but rarely the one that matters. */
const MAX_ISSUE_CHARS = 100_000;

/** The facts of one problem statement that patches are matched against. */
export interface IssueFacts {
  /** Identifiers from code: fenced blocks, indented blocks, backticks, and code-looking words in prose. */
  identifiers: Set<string>;
  /** Identifiers inside backticks or code blocks only: what the reporter pointed at. */
  codeIdentifiers: Set<string>;
  /** Path tails (last two components, lower case) and base names of files the issue names. */
  pathTails: Set<string>;
  /** Dotted names the issue mentions, as path tails without extension (`db.models` -> `db/models`). */
  moduleTails: Set<string>;
  /** Path tails of files in traceback frames. */
  tracebackTails: Set<string>;
  /** Function names in traceback frames. */
  tracebackFunctions: Set<string>;
}

const FENCE = /```[^\n]*\n([\s\S]*?)```/g;
const BACKTICK = /`([^`\n]+)`/g;
const PATH = /[\w./\\-]+\.(?:py|pyx|pyi|js|ts|tsx|jsx|go|rs|java|c|h|cc|cpp|rb|php|cfg|toml|ini)\b/g;
const MODULE = /\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){1,}\b/g;
const PY_FRAME = /File "([^"]+)", line \d+, in ([\w<>]+)/g;
const IPY_FRAME = /([\w./~-]+\.py) in ([\w<>]+)\(/g;
/** Prose words that look like code: snake_case, camelCase, dotted access or a call. */
const CODE_WORD = /\b(?:[A-Za-z]+_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|\w+(?=\())\b/g;
const GENERIC_NAMES = new Set(['__init__.py', 'utils.py', 'base.py', 'models.py', 'setup.py', 'main.py', 'core.py']);
const KEYWORDS = new Set(['def', 'class', 'return', 'import', 'from', 'self', 'None', 'True', 'False', 'and', 'not', 'for', 'the', 'with', 'print', 'raise', 'else', 'elif', 'while', 'pass', 'lambda', 'yield', 'try', 'except', 'finally', 'assert', 'global', 'async', 'await', 'this', 'that']);

/** Reads the facts of `problem`, up to MAX_ISSUE_CHARS characters of it. */
export function issueFacts(problem: string): IssueFacts {
  const text = problem.slice(0, MAX_ISSUE_CHARS);
  const code: string[] = [];
  for (const match of text.matchAll(FENCE)) code.push(match[1]);
  for (const match of text.matchAll(BACKTICK)) code.push(match[1]);
  // Indented blocks (four spaces or a tab) are code in Markdown and in plain-text tracebacks alike.
  for (const line of text.split('\n')) if (/^( {4}|\t)/.test(line)) code.push(line);
  const codeIdentifiers = new Set<string>();
  for (const snippet of code) addIdentifiers(snippet, codeIdentifiers);
  const identifiers = new Set(codeIdentifiers);
  for (const match of text.matchAll(CODE_WORD)) if (match[0].length >= 3) identifiers.add(match[0]);
  for (const match of text.matchAll(MODULE)) for (const part of match[0].split('.')) if (part.length >= 3) identifiers.add(part);
  for (const set of [identifiers, codeIdentifiers]) for (const word of KEYWORDS) set.delete(word);
  const { tails: tracebackTails, functions: tracebackFunctions } = tracebackFrames(text);
  const pathTails = new Set<string>();
  for (const path of [...tracebackTails, ...[...text.matchAll(PATH)].map((m) => m[0])]) {
    pathTails.add(pathTail(path));
    pathTails.add(pathTail(path).split('/').at(-1) ?? '');
  }
  const moduleTails = new Set<string>();
  for (const match of text.matchAll(MODULE)) moduleTails.add(pathTail(match[0].replace(/\./g, '/')));
  return { identifiers, codeIdentifiers, pathTails, moduleTails, tracebackTails, tracebackFunctions };
}

function tracebackFrames(text: string): { tails: Set<string>; functions: Set<string> } {
  const tails = new Set<string>();
  const functions = new Set<string>();
  for (const pattern of [PY_FRAME, IPY_FRAME]) {
    for (const match of text.matchAll(pattern)) {
      tails.add(pathTail(match[1]));
      if (!match[2].startsWith('<')) functions.add(match[2]);
    }
  }
  return { tails, functions };
}

/** True when the issue names `path`: its tail, its distinctive base name, its module or its package. */
export function mentionsFile(issue: IssueFacts, path: string): boolean {
  const tail = pathTail(path);
  const base = tail.split('/').at(-1) ?? '';
  if (issue.pathTails.has(tail) || (issue.pathTails.has(base) && !GENERIC_NAMES.has(base))) return true;
  const module = pathTail(path.replace(/\.[^./]+$/, ''));
  const dir = pathTail(path.split('/').slice(0, -1).join('/'));
  return issue.moduleTails.has(module) || (dir.includes('/') && issue.moduleTails.has(dir));
}

/** The last two components of a path, lower case, `/`-separated: enough to match across checkouts. */
export function pathTail(path: string): string {
  return path.replace(/\\/g, '/').toLowerCase().split('/').filter(Boolean).slice(-2).join('/');
}
