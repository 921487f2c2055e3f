import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTextAction } from '../../../../src/core/llm/textFormat.js';
import type { Message } from '../../../../src/core/types.js';
import { runOne } from '../../../../src/core/verify/execution/reproductionSignal.js';
import { collectReproTests, type ReproTest } from '../../../../src/core/verify/execution/reproTests.js';
import { tempDir } from '../../../helpers/tempRepo.js';
import { write } from './fixtureRepo.js';

const text = (name: string, args: Record<string, unknown>): Message => ({ role: 'assistant', content: `Thinking.\n\n${formatTextAction(name, args)}` });
const native = (name: string, args: Record<string, unknown>): Message => ({
  role: 'assistant', content: 'Thinking.', toolCalls: [{ id: `c${Math.random()}`, name, arguments: JSON.stringify(args) }],
});
const observation: Message = { role: 'user', content: 'The file was created.' };

describe('collectReproTests', () => {
  it('replays create, str_replace, insert and undo_edit in both action formats; the last version wins', () => {
    const r0: Message[] = [
      text('file_editor', { command: 'create', path: 'reproduce_issue.py', file_text: 'print(1)\n' }), observation,
      text('file_editor', { command: 'str_replace', path: 'reproduce_issue.py', old_str: 'print(1)', new_str: 'assert f() == 2' }),
      text('file_editor', { command: 'insert', path: 'reproduce_issue.py', insert_line: 0, new_str: 'from m import f' }),
      text('file_editor', { command: 'create', path: 'pkg/core.py', file_text: 'x = 1\n' }),
      text('execute_bash', { cmd: 'python3 reproduce_issue.py' }),
    ];
    const r1: Message[] = [
      native('file_editor', { command: 'create', path: '/testbed/tests/test_repro_bug.py', file_text: 'v1\n' }),
      native('file_editor', { command: 'str_replace', path: '/testbed/tests/test_repro_bug.py', old_str: 'v1', new_str: 'v2' }),
      native('file_editor', { command: 'undo_edit', path: '/testbed/tests/test_repro_bug.py' }),
      native('file_editor', { command: 'str_replace', path: '/testbed/tests/test_repro_bug.py', old_str: 'missing', new_str: 'never' }),
      native('file_editor', { command: 'create', path: 'repro.js', file_text: 'process.exit(1)\n' }),
      native('file_editor', { command: 'create', path: 'repro.txt', file_text: 'notes\n' }),
    ];
    const r2: Message[] = [native('file_editor', { command: 'create', path: './reproduce_issue.py', file_text: 'from m import f\nassert f() == 2\n' })];
    const tests = collectReproTests([{ id: 'r0', messages: r0 }, { id: 'r1', messages: r1 }, { id: 'r2', messages: r2 }, { id: 'r3' }]);
    expect(tests).toEqual([
      { id: 'reproduce_issue.py', path: 'reproduce_issue.py', content: 'from m import f\nassert f() == 2\n', authors: ['r0', 'r2'], interpreter: 'python3', origin: 'trajectory' },
      { id: 'tests/test_repro_bug.py', path: 'tests/test_repro_bug.py', content: 'v1\n', authors: ['r1'], interpreter: 'python3', origin: 'trajectory' },
      { id: 'repro.js', path: 'repro.js', content: 'process.exit(1)\n', authors: ['r1'], interpreter: 'node', origin: 'trajectory' },
    ]);
  });

  it('tells apart different scripts written at the same path, and drops paths leaving the repository', () => {
    const tests = collectReproTests([
      { id: 'r0', messages: [text('file_editor', { command: 'create', path: 'repro.py', file_text: 'a\n' })] },
      { id: 'r1', messages: [text('file_editor', { command: 'create', path: 'repro.py', file_text: 'b\n' })] },
      { id: 'r2', messages: [text('file_editor', { command: 'create', path: '../repro.py', file_text: 'c\n' })] },
      { id: 'r3', messages: [text('file_editor', { command: 'create', path: '/tmp/w/r3/reproduce.sh', file_text: 'exit 1\n' })] },
    ]);
    expect(tests.map((t) => [t.id.replace(/#[0-9a-f]{8}$/, '#hash'), t.path, t.authors.join()])).toEqual([
      ['repro.py#hash', 'repro.py', 'r0'], ['repro.py#hash', 'repro.py', 'r1'], ['reproduce.sh', 'reproduce.sh', 'r3'],
    ]);
    expect(tests[0].id).not.toBe(tests[1].id);
  });

  it('takes the scripts a patch adds, once per content, with the rollouts that also wrote them', () => {
    const added = (file: string, lines: string[], newline = true) => [
      `diff --git a/${file} b/${file}`, 'new file mode 100644', 'index 0000000..1111111', '--- /dev/null', `+++ b/${file}`,
      `@@ -0,0 +1,${lines.length} @@`, ...lines.map((l) => `+${l}`), ...(newline ? [] : ['\\ No newline at end of file']), '',
    ].join('\n');
    const fix = 'diff --git a/m.py b/m.py\nindex 1..2 100644\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n';
    const tests = collectReproTests([
      { id: 'r0', messages: [text('file_editor', { command: 'create', path: 'reproduce_bug.py', file_text: 'import m\nassert m.x == 2\n' })] },
      { id: 'c1', patch: fix + added('reproduce_bug.py', ['import m', 'assert m.x == 2']) },
      { id: 'c2', patch: added('replicate_issue.py', ['import m', 'print(m.x)'], false) + added('bug_reproduction.py', ['import m']) + added('notes.txt', ['x']) },
      { id: 'c3', patch: added('pkg/helper.py', ['y = 1']) + added('replicate/client.py', ['z = 1']) },
    ]);
    expect(tests.map((t) => [t.id, t.content, t.authors, t.origin])).toEqual([
      ['reproduce_bug.py', 'import m\nassert m.x == 2\n', ['r0', 'c1'], 'trajectory'],
      ['replicate_issue.py', 'import m\nprint(m.x)', ['c2'], 'patch'],
      ['bug_reproduction.py', 'import m\n', ['c2'], 'patch'],
    ]);
  });

  it('ignores malformed actions and messages of other roles', () => {
    const messages: Message[] = [
      { role: 'user', content: formatTextAction('file_editor', { command: 'create', path: 'reproduce.py', file_text: 'x' }) },
      { role: 'assistant', content: 'two calls <function=file_editor></function><function=finish></function>' },
      native('file_editor', { command: 'create', path: 'reproduce.py' }),
    ];
    expect(collectReproTests([{ id: 'r0', messages }])).toEqual([]);
  });
});

describe('running one reproduction script', () => {
  const script = (p: string, content: string, interpreter: string): ReproTest => ({ id: p, path: p, content, authors: ['r0'], interpreter, origin: 'trajectory' });

  it('fails on a non-zero exit, a printed traceback or AssertionError, and a timeout; passes on a clean exit', async (context) => {
    const temp = tempDir('entropo-repro-');
    context.onTestFinished(temp.cleanup);
    write(temp.dir, { 'repro.py': 'original = True\n' });
    const caught = 'import traceback\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    traceback.print_exc()\n';
    const runs = await Promise.all([
      runOne(temp.dir, script('repro.py', caught, 'python3'), { timeoutMs: 20_000 }),
      runOne(temp.dir, script('sub/repro.js', 'console.log("fine")\n', 'node'), { timeoutMs: 20_000 }),
      runOne(temp.dir, script('reproduce.sh', 'echo "AssertionError: expected 3"\n', 'bash'), { timeoutMs: 20_000 }),
      runOne(temp.dir, script('reproduce_exit.sh', 'exit 4\n', 'bash'), { timeoutMs: 20_000 }),
      runOne(temp.dir, script('reproduce_hang.sh', 'sleep 30\n', 'bash'), { timeoutMs: 700 }),
    ]);
    expect(runs.map((r) => [r.passed, r.why])).toEqual([
      [false, 'exit 0 but printed Traceback (most recent call last):'],
      [true, 'exit 0'],
      [false, 'exit 0 but printed AssertionError: expected 3'],
      [false, 'exit 4: (no output)'],
      [false, 'timed out after 0.7 s'],
    ]);
    // A file of the repository at the script's path is left alone; every script is removed after its run.
    expect(readFileSync(path.join(temp.dir, 'repro.py'), 'utf8')).toBe('original = True\n');
    expect(readdirSync(temp.dir).sort()).toEqual(['repro.py', 'sub']);
    expect(readdirSync(path.join(temp.dir, 'sub'))).toEqual([]);
  });
});
