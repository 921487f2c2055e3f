import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/core/errors.js';
import { fileEditor } from '../../../src/core/tools/fileEditor.js';
import { tempDir } from '../../helpers/tempRepo.js';
import { toolContext } from '../../helpers/toolContext.js';

describe('file_editor', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  function setup() {
    const t = tempDir();
    cleanups.push(t.cleanup);
    mkdirSync(path.join(t.dir, 'pkg', 'sub'), { recursive: true });
    writeFileSync(path.join(t.dir, 'pkg', 'mod.py'), 'def f():\n    return 1\n\ndef g():\n    return 1\n');
    writeFileSync(path.join(t.dir, 'pkg', 'sub', 'deep.py'), '');
    mkdirSync(path.join(t.dir, 'pkg', 'sub', 'deeper'));
    writeFileSync(path.join(t.dir, 'pkg', 'sub', 'deeper', 'hidden.py'), '');
    return { dir: t.dir, ctx: toolContext(t.dir) };
  }
  const run = (args: Record<string, unknown>, ctx: ReturnType<typeof setup>['ctx']) => fileEditor.run(args, ctx);
  const fails = async (args: Record<string, unknown>, ctx: ReturnType<typeof setup>['ctx']) => {
    const error = await run(args, ctx).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    return (error as AgentError).message;
  };

  it('views a file with line numbers and a range', async () => {
    const { ctx } = setup();
    const whole = await run({ command: 'view', path: 'pkg/mod.py' }, ctx);
    expect(whole.observation).toContain('     1\tdef f():');
    expect(whole.observation).toContain('     5\t    return 1');
    const part = await run({ command: 'view', path: 'pkg/mod.py', view_range: [4, -1] }, ctx);
    expect(part.observation).toContain('     4\tdef g():');
    expect(part.observation).not.toContain('def f()');
    expect(await fails({ command: 'view', path: 'pkg/mod.py', view_range: [9, 10] }, ctx)).toMatch(/invalid: the file has 6 lines/);
  });

  it('lists a directory two levels deep', async () => {
    const { ctx } = setup();
    const listing = (await run({ command: 'view', path: '.' }, ctx)).observation;
    expect(listing).toContain('pkg/mod.py');
    expect(listing).toContain('pkg/sub/');
    expect(listing).not.toContain('hidden.py');
  });

  it('shows a large source file as a tree-sitter skeleton unless a range is asked for', async () => {
    const { dir, ctx } = setup();
    const body = Array.from({ length: 300 }, (_, i) => `def func_${i}(x):\n    y = x + ${i}\n    return y\n`).join('\n');
    writeFileSync(path.join(dir, 'big.py'), `class Big:\n    def method(self):\n        pass\n\n${body}`);
    const view = (await run({ command: 'view', path: 'big.py' }, ctx)).observation;
    expect(view).toMatch(/^Skeleton of big\.py/);
    expect(view).toMatch(/\s+1\tclass Big:/);
    expect(view).toContain('def func_299(x):');
    expect(view).not.toContain('y = x + 299');
    const ranged = (await run({ command: 'view', path: 'big.py', view_range: [1, 3] }, ctx)).observation;
    expect(ranged).toContain('def method(self):');
    expect(ranged).toContain('pass');
  });

  it('clips huge output with a visible marker and refuses binary and oversized files', async () => {
    const { dir, ctx } = setup();
    writeFileSync(path.join(dir, 'long.txt'), 'x'.repeat(50_000));
    const view = (await run({ command: 'view', path: 'long.txt' }, ctx)).observation;
    expect(view.length).toBeLessThan(11_000);
    expect(view).toMatch(/response clipped: \d+ characters omitted/);
    writeFileSync(path.join(dir, 'blob.bin'), Buffer.from([1, 0, 2, 3]));
    expect(await fails({ command: 'view', path: 'blob.bin' }, ctx)).toMatch(/binary file/);
    writeFileSync(path.join(dir, 'huge.txt'), Buffer.alloc(6 * 1024 * 1024, 97));
    expect(await fails({ command: 'view', path: 'huge.txt' }, ctx)).toMatch(/too large to open/);
  });

  it('refuses a named pipe the agent made instead of waiting for a writer that never comes, in view and str_replace', async () => {
    const { dir, ctx } = setup();
    execFileSync('mkfifo', [path.join(dir, 'pipe.py')]);
    expect(await fails({ command: 'view', path: 'pipe.py' }, ctx)).toBe('pipe.py is a named pipe, not a regular file and cannot be viewed or edited as text.');
    expect(await fails({ command: 'str_replace', path: 'pipe.py', old_str: 'a', new_str: 'b' }, ctx)).toMatch(/^pipe\.py is a named pipe/);
  });

  it('creates files but never overwrites, and undo removes a created file', async () => {
    const { dir, ctx } = setup();
    await run({ command: 'create', path: 'new/dir/x.py', file_text: 'A = 1\n' }, ctx);
    expect(readFileSync(path.join(dir, 'new/dir/x.py'), 'utf8')).toBe('A = 1\n');
    expect(await fails({ command: 'create', path: 'new/dir/x.py', file_text: 'B' }, ctx)).toMatch(/already exists/);
    await run({ command: 'undo_edit', path: 'new/dir/x.py' }, ctx);
    expect(existsSync(path.join(dir, 'new/dir/x.py'))).toBe(false);
  });

  it('str_replace needs exactly one match and undo restores the previous text', async () => {
    const { dir, ctx } = setup();
    expect(await fails({ command: 'str_replace', path: 'pkg/mod.py', old_str: 'return 1', new_str: 'return 2' }, ctx))
      .toMatch(/appears 2 times .*lines 2, 5/);
    expect(await fails({ command: 'str_replace', path: 'pkg/mod.py', old_str: 'return 3', new_str: 'x' }, ctx))
      .toMatch(/did not appear verbatim/);
    const result = await run({ command: 'str_replace', path: 'pkg/mod.py', old_str: 'def g():\n    return 1', new_str: 'def g():\n    return 2' }, ctx);
    expect(result.observation).toContain('     5\t    return 2');
    expect(readFileSync(path.join(dir, 'pkg/mod.py'), 'utf8')).toBe('def f():\n    return 1\n\ndef g():\n    return 2\n');
    await run({ command: 'undo_edit', path: 'pkg/mod.py' }, ctx);
    expect(readFileSync(path.join(dir, 'pkg/mod.py'), 'utf8')).toBe('def f():\n    return 1\n\ndef g():\n    return 1\n');
    expect(await fails({ command: 'undo_edit', path: 'pkg/mod.py' }, ctx)).toMatch(/No edit to undo/);
  });

  it('undo writes nothing through a link the agent put in place of the file since, to a file that does not exist yet', async () => {
    const { dir, ctx } = setup();
    const outside = tempDir();
    cleanups.push(outside.cleanup);
    await run({ command: 'str_replace', path: 'pkg/mod.py', old_str: 'def g():\n    return 1', new_str: 'def g():\n    return 2' }, ctx);
    rmSync(path.join(dir, 'pkg/mod.py'));
    symlinkSync(path.join(outside.dir, 'planted.py'), path.join(dir, 'pkg/mod.py'));
    expect(await fails({ command: 'undo_edit', path: 'pkg/mod.py' }, ctx)).toMatch(/outside the repository/);
    expect(existsSync(path.join(outside.dir, 'planted.py'))).toBe(false);
  });

  it('inserts after a line and validates the line number', async () => {
    const { dir, ctx } = setup();
    await run({ command: 'insert', path: 'pkg/mod.py', insert_line: 0, new_str: '# header' }, ctx);
    expect(readFileSync(path.join(dir, 'pkg/mod.py'), 'utf8').split('\n')[0]).toBe('# header');
    expect(await fails({ command: 'insert', path: 'pkg/mod.py', insert_line: 99, new_str: 'x' }, ctx)).toMatch(/between 0 and 7/);
  });

  it('refuses paths outside the repository and unknown commands', async () => {
    const { ctx } = setup();
    expect(await fails({ command: 'view', path: '../../etc/passwd' }, ctx)).toMatch(/outside the repository/);
    expect(await fails({ command: 'create', path: '/tmp/evil.py', file_text: 'x' }, ctx)).toMatch(/outside the repository/);
    expect(await fails({ command: 'delete', path: 'pkg/mod.py' }, ctx)).toMatch(/Unknown command/);
    expect(await fails({ command: 'view', path: 'nope.py' }, ctx)).toMatch(/does not exist/);
  });
});
