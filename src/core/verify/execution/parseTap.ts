/** Reads TAP (version 13/14 with indented subtests, as `node --test --test-reporter=tap` writes it). */
import { record, stripAnsi, type TestResults, type TestStatus } from './testResults.js';

interface TapNode {
  name: string;
  status: TestStatus;
  children: TapNode[];
}

// The test number is optional in TAP but every producer writes it; requiring it keeps a lone "ok" printed by
// some other runner from reading as a test.
const RESULT = /^(not ok|ok) +(\d+)\b *(?:- *)?(.*)$/;

/**
 * Parses TAP output into per-test outcomes. Subtests are indented four spaces per level and reported before
 * their parent; a test's id is its path, `suite > test`. A parent is reported only when it failed on its own
 * (a failing hook) rather than because a subtest failed, so each failure is counted once. Directives:
 * `# SKIP` is skipped, `# TODO` never counts as a failure.
 */
export function parseTap(output: string, into: TestResults = new Map()): TestResults {
  const levels: TapNode[][] = [[]];
  // Names announced by `# Subtest: name`, per level: they name the parents of results whose parent never
  // reported, because the run was killed in the middle.
  const announced: string[] = [];
  let inYaml = false;
  for (const raw of stripAnsi(output).split('\n')) {
    const trimmed = raw.trim();
    if (inYaml) {
      if (trimmed === '...') inYaml = false;
      continue;
    }
    if (trimmed === '---') {
      inYaml = true;
      continue;
    }
    if (trimmed.startsWith('Bail out!')) break;
    const level = Math.floor((raw.length - raw.trimStart().length) / 4);
    const subtest = /^# Subtest: (.*)$/.exec(trimmed);
    if (subtest) {
      announced[level] = splitDirective(subtest[1]).description;
      announced.length = level + 1;
      continue;
    }
    const match = RESULT.exec(trimmed);
    if (!match) continue;
    const node = resultNode(match[1] === 'ok', match[3], levels[level + 1] ?? []);
    while (levels.length <= level + 1) levels.push([]);
    levels[level + 1] = [];
    levels[level].push(node);
  }
  levels.forEach((nodes, level) => {
    const prefix = announced.slice(0, level).join(' > ');
    for (const node of nodes) emit(node, prefix, into);
  });
  return into;
}

function resultNode(ok: boolean, rest: string, children: TapNode[]): TapNode {
  const { description, directive } = splitDirective(rest);
  let status: TestStatus = ok ? 'passed' : 'failed';
  if (/^skip/i.test(directive)) status = 'skipped';
  else if (/^todo/i.test(directive)) status = ok ? 'passed' : 'skipped';
  return { name: description, status, children };
}

/** Splits `name # DIRECTIVE reason` at the first unescaped `#`, unescaping `\#` and `\\` in the name. */
function splitDirective(rest: string): { description: string; directive: string } {
  let description = '';
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i];
    if (ch === '\\' && i + 1 < rest.length) {
      description += rest[++i];
    } else if (ch === '#') {
      return { description: description.trim(), directive: rest.slice(i + 1).trim() };
    } else description += ch;
  }
  return { description: description.trim(), directive: '' };
}

function emit(node: TapNode, prefix: string, into: TestResults): boolean {
  const id = prefix === '' ? node.name : `${prefix} > ${node.name}`;
  let childFailed = false;
  for (const child of node.children) childFailed = emit(child, id, into) || childFailed;
  const failed = node.status === 'failed';
  if (node.children.length === 0 || (failed && !childFailed)) record(into, id, node.status);
  return failed || childFailed;
}
