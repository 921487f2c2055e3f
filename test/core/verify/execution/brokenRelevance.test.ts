import { describe, expect, it } from 'vitest';
import { brokenRelevance, withBrokenRelevance } from '../../../../src/core/verify/execution/brokenRelevance.js';
import type { SignalValue } from '../../../../src/core/verify/signalTypes.js';

const PATCH = [
  'diff --git a/sympy/printing/latex.py b/sympy/printing/latex.py',
  'index 1111111..2222222 100644',
  '--- a/sympy/printing/latex.py',
  '+++ b/sympy/printing/latex.py',
  '@@ -10,7 +10,7 @@ class LatexPrinter(Printer):',
  '     def _print_Mul(self, expr):',
  '-        return a',
  '+        return b',
  '@@ -40,3 +40,4 @@ def _helper(x):',
  '+def latex_escape(s):',
  '+    return s',
  '',
].join('\n');

const ISSUE = 'Printing `Subs(x, y)` loses parentheses; also `pretty()` of it.\n\n```python\n>>> from sympy import Subs\n>>> print(Subs(-x, x, 1))\n```';

describe('brokenRelevance', () => {
  it('tells tests of the changed files and edited functions, and tests of what the issue names, from the rest', () => {
    const broken = [
      'sympy/printing/tests/test_latex.py::test_latex_basic', // the changed file's tests
      'sympy/core/tests/test_basic.py::test_latex_escape_rules', // named after an edited function
      'sympy/printing/pretty/tests/test_pretty.py::test_pretty_subs', // what the issue names, another file
      'sympy/core/tests/test_numbers.py::test_Float', // unrelated
      'sympy/printing/tests/test_latex.py::test_issue_subs[param]', // both, with a parameter suffix
    ];
    expect(brokenRelevance(broken, PATCH, ISSUE)).toEqual({
      ofChangedCode: [broken[0], broken[1], broken[4]],
      ofIssue: [broken[2], broken[4]],
    });
  });

  it('reads unittest, JUnit and go ids, and finds nothing without an issue or a source change', () => {
    const go = ['TestLatexEscape', 'TestUnrelated'];
    expect(brokenRelevance(go, PATCH).ofChangedCode).toEqual(['TestLatexEscape']);
    expect(brokenRelevance(['sympy.printing.tests.test_latex.TestPrinter.test_one', 'com.example.LatexTest.testRound'], PATCH).ofChangedCode)
      .toEqual(['sympy.printing.tests.test_latex.TestPrinter.test_one', 'com.example.LatexTest.testRound']);
    expect(brokenRelevance(['tests/test_latex.py::test_a'], '', '')).toEqual({ ofChangedCode: [], ofIssue: [] });
  });
});

describe('withBrokenRelevance', () => {
  const broke = (...broken: string[]): SignalValue => ({ status: 'ok', score: -broken.length, detail: `breaks ${broken.length} of 9 passing tests`, data: { broken } });

  it('says in the detail and the data what the broken tests are of, and keeps the score and unmeasured values', () => {
    const values = new Map<string, SignalValue>([
      ['a', broke('sympy/printing/tests/test_latex.py::test_latex_basic', 'sympy/core/tests/test_numbers.py::test_Float')],
      ['b', broke('sympy/core/tests/test_numbers.py::test_Float')],
      ['c', { status: 'ok', score: 0, detail: '9/9 tests that passed before still pass', data: { broken: [] } }],
      ['d', { status: 'unavailable', reason: 'timed out' }],
    ]);
    const candidates = ['a', 'b', 'c', 'd'].map((id) => ({ id, patch: PATCH }));
    const out = withBrokenRelevance(values, candidates, ISSUE);
    expect(out.get('a')).toMatchObject({
      score: -2, detail: 'breaks 2 of 9 passing tests; of the broken tests, 1 test code it changes',
      data: { ofChangedCode: ['sympy/printing/tests/test_latex.py::test_latex_basic'], ofIssue: [] },
    });
    expect(out.get('b')).toMatchObject({ score: -1, detail: 'breaks 1 of 9 passing tests; of the broken tests, none tests code it changes or what the issue names' });
    expect(out.get('c')).toEqual(values.get('c'));
    expect(out.get('d')).toEqual(values.get('d'));
  });
});
