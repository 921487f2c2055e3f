/**
 * What a candidate's broken tests are about: tests of the code the candidate changed, and tests of the
 * behaviour the issue names. A correct fix may break a test that asserts the old behaviour (DESIGN.md
 * section 5); a broken test of unrelated code is stronger evidence against a candidate. Annotates the
 * regression signal for people and for later selectors; the score stays as it is.
 */
import { changedFiles } from '../../worktree/patch.js';
import type { SignalValue } from '../signalTypes.js';

/** The broken tests of one candidate that look related to its change or to the issue. */
export interface BrokenRelevance {
  /** Tests of a changed file (`tests/test_mod.py` for `pkg/mod.py`), or named after a function or class the patch edits. */
  ofChangedCode: string[];
  /** Tests named after something the issue names in code (`` `latex` ``, `Matrix.det()`), or named in it. */
  ofIssue: string[];
}

/** Which of `broken` (test ids as the runner reports them) relate to `patch` and to `issue`. */
export function brokenRelevance(broken: readonly string[], patch: string, issue = ''): BrokenRelevance {
  const stems = new Set(changedFiles(patch).map(sourceStem).filter((s) => s.length >= 2));
  const edited = editedNames(patch);
  const named = issueNames(issue);
  const ofChangedCode: string[] = [];
  const ofIssue: string[] = [];
  for (const id of broken) {
    const { where, name } = splitTestId(id);
    const words = nameWords(name);
    const squashed = name.toLowerCase().replace(/_/g, '');
    if (where.some((w) => stems.has(sourceStem(w))) || edited.some((n) => squashed.includes(n.replace(/_/g, '')))) ofChangedCode.push(id);
    if (issue.includes(name) || named.some((n) => words.includes(n))) ofIssue.push(id);
  }
  return { ofChangedCode, ofIssue };
}

/**
 * Adds `brokenRelevance` to each measured regression value that breaks tests (`data.ofChangedCode`,
 * `data.ofIssue`), and says so in the detail. Returns a new map.
 */
export function withBrokenRelevance(
  values: ReadonlyMap<string, SignalValue>,
  candidates: readonly { id: string; patch: string }[],
  issue = '',
): Map<string, SignalValue> {
  const out = new Map(values);
  for (const c of candidates) {
    const value = values.get(c.id);
    const broken = value?.status === 'ok' && Array.isArray(value.data?.broken) ? (value.data.broken as string[]) : [];
    if (value?.status !== 'ok' || broken.length === 0) continue;
    const relevance = brokenRelevance(broken, c.patch, issue);
    const notes = [
      relevance.ofChangedCode.length > 0 ? `${count(relevance.ofChangedCode, broken)} test code it changes` : '',
      relevance.ofIssue.length > 0 ? `${count(relevance.ofIssue, broken)} test what the issue names` : '',
    ].filter(Boolean);
    const detail = `${value.detail}; of the broken tests, ${notes.length > 0 ? notes.join(', ') : 'none tests code it changes or what the issue names'}`;
    out.set(c.id, { ...value, detail, data: { ...value.data, ...relevance } });
  }
  return out;
}

function count(some: readonly string[], all: readonly string[]): string {
  return some.length === all.length ? 'all' : String(some.length);
}

/**
 * A test id's test name, and the files, modules or classes it lies in: `pkg/tests/test_mod.py::TestX::test_y`
 * -> `test_y` in `pkg/tests/test_mod.py`; `tests.test_mod.TestX.test_y` (unittest, JUnit) -> `test_y` in
 * `tests`, `test_mod`, `TestX`; `TestY` (go) -> `TestY` in nothing.
 */
function splitTestId(id: string): { where: string[]; name: string } {
  const bare = id.replace(/\[.*\]$/, '');
  const parts = bare.includes('::') ? bare.split('::') : bare.split(/[.\s]/).filter(Boolean);
  return { where: parts.slice(0, -1), name: parts.at(-1) ?? bare };
}

/** A file's stem without test markers: `tests/test_mod.py`, `mod_test.go`, `mod.test.ts`, `ModTest.java` -> `mod`. */
function sourceStem(file: string): string {
  const base = (file.split('/').at(-1) ?? file).replace(/\.[^.]+$/, '').replace(/\.(test|spec)$/i, '');
  return base.replace(/^test_?/i, '').replace(/(_test|_tests|Tests?)$/, '').toLowerCase();
}

/** The lower-cased words of a test name: `test_latex_Matrix` and `testLatexMatrix` -> latex, matrix. */
function nameWords(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w && w !== 'test' && w !== 'tests');
}

/** Functions and classes a patch edits: its hunk headers' context and the definitions on its changed lines. */
function editedNames(patch: string): string[] {
  const names = new Set<string>();
  const definition = /\b(?:def|class|function|func|fn|interface|struct|enum|trait)\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/g;
  for (const line of patch.split('\n')) {
    const header = /^@@ [^@]+ @@(.*)$/.exec(line);
    const text = header ? header[1] : /^[-+](?![-+]{2} )/.test(line) ? line.slice(1) : '';
    for (const m of text.matchAll(definition)) names.add(m[1].toLowerCase());
  }
  return [...names].filter((n) => n.length >= 3 && !n.startsWith('test') && !n.startsWith('_'));
}

/** Identifiers the issue writes as code: in backticks or code blocks, or called (`name(`); three letters at least. */
function issueNames(issue: string): string[] {
  const code = [...issue.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map((m) => m[0]).join('\n');
  const called = [...issue.matchAll(/\b([A-Za-z_]\w*)\(/g)].map((m) => m[1]);
  const words = [...code.matchAll(/[A-Za-z_]\w*/g)].map((m) => m[0]).concat(called);
  return [...new Set(words.flatMap((w) => nameWords(w)))].filter((w) => w.length >= 3 && !COMMON.has(w));
}

// Words of code blocks that say nothing about what a test is of.
const COMMON = new Set(['import', 'from', 'print', 'return', 'self', 'none', 'true', 'false', 'def', 'class', 'for', 'and', 'not', 'the',
  'python', 'traceback', 'file', 'line', 'error', 'assert', 'expected', 'int', 'str', 'len', 'list', 'dict', 'range', 'const', 'let', 'var']);
