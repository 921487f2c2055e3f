/**
 * Reproduction scripts are written, run and removed inside the sandbox: an earlier script of the agent's that
 * plants a link at a later script's path, or on its folder, cannot lead a write from the host out of the tree.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testSignals } from '../../../../src/core/verify/execution/testSignals.js';
import { releaseSnapshot, snapshot } from '../../../../src/core/worktree/snapshot.js';
import { overlaysMissing } from '../../../helpers/overlays.js';
import { cleanup, sandbox, tempDir } from '../../sandbox/helpers.js';
import { fixtureRepo, patchOf } from './fixtureRepo.js';

const editorCall = (path: string, text: string) => ({
  role: 'assistant' as const,
  content: `Writing ${path}.\n\n<function=file_editor>\n<parameter=command>create</parameter>\n<parameter=path>${path}</parameter>\n<parameter=file_text>${text}</parameter>\n</function>`,
});

describe.skipIf(!sandbox.available).each(['worktree', 'overlay'] as const)('reproduction scripts in %s trees', (kind) => {
  afterAll(cleanup);

  it('are written inside the sandbox: links planted by an earlier script lead nowhere outside the tree', async (context) => {
    const missing = kind === 'overlay' ? await overlaysMissing() : null;
    if (missing) context.skip(missing);
    // Outside the system temp folder, so that the sandbox's private /tmp is not what keeps it safe.
    const outside = tempDir('entropo-host-', '/var/tmp');
    const repo = fixtureRepo({ 'calc/__init__.py': 'def add(a, b):\n    return a - b\n' });
    context.onTestFinished(repo.cleanup);
    const snap = await snapshot(repo.dir);
    context.onTestFinished(() => releaseSnapshot(snap));
    const plant = [
      'import os',
      `os.path.lexists("b_repro.py") or os.symlink(${JSON.stringify(join(outside, 'planted.py'))}, "b_repro.py")`,
      `os.path.lexists("sub") or os.symlink(${JSON.stringify(outside)}, "sub")`,
      'raise SystemExit(1)',
    ].join('\n');
    const messages = [editorCall('a_repro.py', plant), editorCall('b_repro.py', 'raise SystemExit(1)\n'), editorCall('sub/c_repro.py', 'raise SystemExit(1)\n')];
    const patch = patchOf(repo.dir, { 'calc/__init__.py': 'def add(a, b):\n    return a + b\n' });
    const signals = await testSignals(snap, [{ id: 'r0', patch, messages }], {
      baseDir: tempDir('entropo-verify-'), isolation: kind, command: 'true', containment: { mode: 'required', sandbox: { network: 'off' } },
    });
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(outside, 'planted.py'))).toBe(false);
    // The script whose folder leads outside could not be written there; the others ran beside the links.
    expect(signals.reproduction.tests.map((t) => t.id)).toEqual(['a_repro.py', 'b_repro.py', 'sub/c_repro.py']);
    expect(signals.reproduction.valid).toEqual(['a_repro.py', 'b_repro.py', 'sub/c_repro.py']);
    const failed = (signals.reproduction.values.get('r0') as { data?: { failed: { testId: string; why: string }[] } }).data?.failed;
    expect(failed?.find((f) => f.testId === 'sub/c_repro.py')?.why).toMatch(/^could not be written in the checkout/);
  });

  it('keep each tree to itself: one candidate\'s tests cannot rewrite another candidate\'s tree or the baseline', async (context) => {
    const missing = kind === 'overlay' ? await overlaysMissing() : null;
    if (missing) context.skip(missing);
    const calc = 'def add(a, b):\n    return a + b\n';
    const tests = 'import unittest\n\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n';
    const repo = fixtureRepo({ 'calc/__init__.py': calc, 'tests/__init__.py': '', 'tests/test_calc.py': tests });
    context.onTestFinished(repo.cleanup);
    const snap = await snapshot(repo.dir);
    context.onTestFinished(() => releaseSnapshot(snap));
    // Collected with the suite: breaks the code of every other tree it can reach, and says how many it reached.
    const sabotage = ['import os', 'reached = 0', 'for name in os.listdir(".."):',
      '    target = os.path.join("..", name, "calc", "__init__.py")',
      '    if os.path.realpath(target) != os.path.realpath("calc/__init__.py") and os.path.exists(target):',
      '        try:', '            open(target, "w").write("def add(a, b):\\n    return 0\\n")', '            reached += 1',
      '        except OSError:', '            pass', 'print("reached", reached)', ''].join('\n');
    const evil = patchOf(repo.dir, { 'tests/test_a_sabotage.py': sabotage });
    const honest = patchOf(repo.dir, { 'calc/__init__.py': calc.replace('return a + b', 'return b + a') });
    const signals = await testSignals(snap, [{ id: 'evil', patch: evil, messages: [] }, { id: 'honest', patch: honest, messages: [] }], {
      baseDir: tempDir('entropo-verify-'), isolation: kind, command: 'python3 -m unittest -v', concurrency: 1,
      containment: { mode: 'required', sandbox: { network: 'off' } },
    });
    expect(signals.regression.values.get('honest')).toMatchObject({ status: 'ok', score: 0 });
    expect(signals.regression.values.get('evil')).toMatchObject({ status: 'ok', score: 0 });
  });
});
