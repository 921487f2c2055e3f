/**
 * A project installed editable into its own `.venv` (src layout): the install's `.pth` file names the user's
 * `src/`, so without care every candidate's tests import the user's code and measure the snapshot.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { editableImportPaths, pythonPathExport } from '../../../../src/core/worktree/editableInstalls.js';
import { testSignals } from '../../../../src/core/verify/execution/testSignals.js';
import type { SignalValue } from '../../../../src/core/verify/signalTypes.js';
import { releaseSnapshot, snapshot } from '../../../../src/core/worktree/snapshot.js';
import { overlaysMissing } from '../../../helpers/overlays.js';
import { tempDir } from '../../../helpers/tempRepo.js';
import { sandbox } from '../../sandbox/helpers.js';
import { fixtureRepo, patchOf, write } from './fixtureRepo.js';

const PKG = "def f():\n    return 1\n\n\ndef g():\n    return 'g'\n";
const TESTS = "import unittest\n\nfrom mypkg import g\n\n\nclass G(unittest.TestCase):\n    def test_g(self):\n        self.assertEqual(g(), 'g')\n";
const ISSUE = 'f() should return 2, it returns 1:\n\n```python\nfrom mypkg import f\nassert f() == 2, f()\n```\n';

/** The user's repository with `.venv` holding an editable install of it, made by setuptools itself; or why not. */
function installedRepo(context: TestContext): string {
  const repo = fixtureRepo({
    'src/mypkg/__init__.py': PKG, 'tests/__init__.py': '', 'tests/test_g.py': TESTS, '.gitignore': '.venv/\n*.egg-info/\n',
    'setup.py': 'from setuptools import setup\nsetup(name="mypkg", version="0.1", package_dir={"": "src"}, packages=["mypkg"])\n',
  });
  context.onTestFinished(repo.cleanup);
  const venv = spawnSync('python3', ['-m', 'venv', '.venv'], { cwd: repo.dir, encoding: 'utf8' });
  if (venv.status !== 0) context.skip(`needs python3 -m venv with pip: ${venv.stderr.trim().split('\n').at(-1)}`);
  execFileSync('.venv/bin/python', ['setup.py', '-q', 'develop'], { cwd: repo.dir, stdio: 'ignore' });
  return repo.dir;
}

function ok(value: SignalValue | undefined) {
  if (value?.status !== 'ok') throw new Error(`expected an ok signal, got ${JSON.stringify(value)}`);
  return value;
}

describe('editable installs of the user\'s project', () => {
  it.for(['worktree', 'overlay'] as const)('do not make %s trees import the user\'s checkout: the tests and the issue\'s code see each candidate', async (kind, context) => {
    const missing = kind === 'overlay' ? await overlaysMissing() : null;
    if (missing) context.skip(missing);
    const repo = installedRepo(context);
    expect(await editableImportPaths(repo, ['.venv'])).toEqual(['src']);
    const patches = {
      fix: patchOf(repo, { 'src/mypkg/__init__.py': PKG.replace('return 1', 'return 2') }),
      breaks: patchOf(repo, { 'src/mypkg/__init__.py': PKG.replace("return 'g'", "return 'h'") }),
    };
    const snap = await snapshot(repo);
    context.onTestFinished(() => releaseSnapshot(snap));
    const work = tempDir();
    context.onTestFinished(work.cleanup);
    const candidates = Object.entries(patches).map(([id, patch]) => ({ id, patch, messages: [] }));
    const signals = await testSignals(snap, candidates, {
      baseDir: join(work.dir, 'trees'), isolation: kind, issue: ISSUE, testTimeoutMs: 60_000, reproTimeoutMs: 30_000,
      ...(sandbox.available ? { containment: { mode: 'required' as const, sandbox: { network: 'off' as const } } } : {}),
    });
    expect(signals.regression.test?.command).toBe('.venv/bin/python -m unittest -v');
    expect(ok(signals.regression.values.get('breaks')).data?.broken).toEqual(['tests.test_g.G.test_g']);
    expect(ok(signals.regression.values.get('fix')).score).toBe(0);
    expect(signals.reproduction.valid).toHaveLength(1);
    expect([ok(signals.reproduction.values.get('fix')).score, ok(signals.reproduction.values.get('breaks')).score]).toEqual([1, 0]);
  });

  it('reads the folders an install names: plain .pth lines, setuptools finders, editables redirectors; not others', async (context) => {
    const temp = tempDir();
    context.onTestFinished(temp.cleanup);
    const root = join(temp.dir, 'proj');
    const site = join(root, '.venv', 'lib', 'python3.12', 'site-packages');
    mkdirSync(site, { recursive: true });
    write(site, {
      // Read in name order, as Python does.
      'b_plain.pth': `# a comment\n${root}/packages/core/src\n/usr/share/elsewhere\n${root}/.venv/lib/extra\n`,
      'a_finder.pth': 'import __editable___flat_0_1_finder; __editable___flat_0_1_finder.install()\n',
      '__editable___flat_0_1_finder.py': `MAPPING: dict[str, str] = {'flat': '${root}/flat', 'tool': '${root}/scripts/tool.py'}\nNAMESPACES = {}\nPATH_PLACEHOLDER = '__editable__.flat-0.1.finder.__path_hook__'\n`,
      'c_redirect.pth': 'import _editables_lib\n',
      '_editables_lib.py': `from editables.redirector import RedirectingFinder as F\nF.install()\nF.map_module('lib', "${root}/libs/lib/__init__.py")\n`,
      'distutils-precedence.pth': "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'\n",
    });
    expect(await editableImportPaths(root, ['.venv', 'venv'])).toEqual(['', 'scripts', 'packages/core/src', 'libs']);
    expect(pythonPathExport(['', 'src'])).toBe('export PYTHONPATH="$PWD":"$PWD"/\'src\'${PYTHONPATH:+:"$PYTHONPATH"}; ');
    expect(pythonPathExport([])).toBe('');
    writeFileSync(join(site, 'a_finder.pth'), 'import missing_module\n');
    expect(await editableImportPaths(root, ['.venv'])).toEqual(['packages/core/src', 'libs']);
  });
});
