import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCargoTest } from '../../../../src/core/verify/execution/parseCargo.js';
import { parseGoTestJson } from '../../../../src/core/verify/execution/parseGoTest.js';
import { parseJestJson } from '../../../../src/core/verify/execution/parseJestJson.js';
import { parseJUnit } from '../../../../src/core/verify/execution/parseJUnit.js';
import { parsePytestSummary } from '../../../../src/core/verify/execution/parsePytest.js';
import { parseTap } from '../../../../src/core/verify/execution/parseTap.js';
import { parseUnittestVerbose } from '../../../../src/core/verify/execution/parseUnittest.js';
import { parseResults } from '../../../../src/core/verify/execution/runTests.js';
import { parseXml } from '../../../../src/core/verify/execution/xml.js';

const fixture = (name: string): string => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const sorted = (results: Map<string, string>): [string, string][] => [...results].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const byName = (rows: [string, string][]): [string, string][] => [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('pytest', () => {
  const expected: [string, string][] = [
    ['tests/test_mix.py::OldStyle::test_ok', 'passed'],
    ['tests/test_mix.py::TestGroup::test_inner', 'passed'],
    ['tests/test_mix.py::test_error', 'error'],
    ['tests/test_mix.py::test_fail', 'failed'],
    ['tests/test_mix.py::test_param[1]', 'passed'],
    ['tests/test_mix.py::test_param[2]', 'failed'],
    ['tests/test_mix.py::test_pass', 'passed'],
  ];

  it('reads the JUnit report as pytest node ids', () => {
    const results = parseJUnit(fixture('pytest-junit.xml'));
    expect(sorted(results)).toEqual(byName([...expected, ['tests/test_mix.py::test_skip', 'skipped']]));
  });

  it('reads the -rA summary with the same ids; skips are known only by location', () => {
    const results = parsePytestSummary(fixture('pytest-rA.txt'));
    expect(sorted(results)).toEqual(byName([...expected, ['tests/test_mix.py:10', 'skipped']]));
  });

  it('keeps a " - " inside parameters as part of the id and reads XFAIL/XPASS as outcomes of their own', () => {
    const output = ['=== short test summary info ===', 'FAILED t.py::test_x[a - b] - assert 1', 'XFAIL t.py::test_y - known', 'XPASS t.py::test_z', '=== 1 failed in 0.1s ==='].join('\n');
    expect(sorted(parsePytestSummary(output))).toEqual([['t.py::test_x[a - b]', 'failed'], ['t.py::test_y', 'xfailed'], ['t.py::test_z', 'xpassed']]);
  });

  it('finds nothing in output without a summary section', () => {
    expect(parsePytestSummary('PASSED tests/a.py::test_b\n').size).toBe(0);
  });
});

describe('JUnit XML', () => {
  it('reads surefire-style reports with entities, CDATA, comments and nested suites', () => {
    const xml = `<?xml version="1.0"?>
<!-- a comment with <testcase name="fake"/> inside -->
<testsuites><testsuite name="outer"><testsuite name="com.x.FooTest">
  <testcase classname="com.x.FooTest" name="adds &amp; subtracts"/>
  <testcase classname="com.x.FooTest" name='quotes "&lt;x&gt;"'><failure message="a &#62; b"><![CDATA[stack <with> tags]]></failure></testcase>
  <testcase classname="com.x.FooTest" name="errs"><error type="java.lang.NPE"/></testcase>
  <testcase classname="com.x.FooTest" name="skips"><skipped/></testcase>
  <testcase name="no class"/>
</testsuite></testsuite></testsuites>`;
    expect(sorted(parseJUnit(xml))).toEqual([
      ['com.x.FooTest.adds & subtracts', 'passed'],
      ['com.x.FooTest.errs', 'error'],
      ['com.x.FooTest.quotes "<x>"', 'failed'],
      ['com.x.FooTest.skips', 'skipped'],
      ['no class', 'passed'],
    ]);
  });

  it('keeps what a report cut off mid-write holds', () => {
    const cut = fixture('pytest-junit.xml').slice(0, fixture('pytest-junit.xml').indexOf('name="test_param[1]"'));
    const results = parseJUnit(cut);
    expect(sorted(results).map(([id]) => id.split('::').at(-1))).toEqual(['test_error', 'test_fail', 'test_pass', 'test_skip']);
  });

  it('decodes numeric entities and keeps unknown ones', () => {
    const root = parseXml('<a x="&#x41;&#66;&nbsp;">t&amp;<b/>u</a>');
    expect(root.children[0].attributes.x).toBe('AB&nbsp;');
    expect(root.children[0].text).toBe('t&u');
    expect(root.children[0].children.map((c) => c.name)).toEqual(['b']);
  });
});

describe('unittest -v', () => {
  it('reads results after docstrings, printed output and subtests, and import errors as errors', () => {
    expect(sorted(parseUnittestVerbose(fixture('unittest-v.txt')))).toEqual(byName([
      ['tests.test_mix.Mix.test_doc', 'passed'],
      ['tests.test_mix.Mix.test_error', 'error'],
      ['tests.test_mix.Mix.test_fail', 'failed'],
      ['tests.test_mix.Mix.test_noisy', 'passed'],
      ['tests.test_mix.Mix.test_pass', 'passed'],
      ['tests.test_mix.Mix.test_skip', 'skipped'],
      ['tests.test_mix.Mix.test_sub', 'failed'],
      ['tests.test_mix.Mix.test_xfail', 'xfailed'],
      ['unittest.loader._FailedTest.tests.test_broken_import', 'error'],
    ]));
  });

  it('reads the pre-3.11 form, whose parentheses name the class only', () => {
    const output = 'test_a (pkg.mod.A) ... ok\ntest_b (pkg.mod.A) ... FAIL\n\n======\n';
    expect(sorted(parseUnittestVerbose(output))).toEqual([['pkg.mod.A.test_a', 'passed'], ['pkg.mod.A.test_b', 'failed']]);
  });
});

describe('TAP from node --test', () => {
  it('reads nested subtests as paths and counts a failing suite once, through its failing test', () => {
    expect(sorted(parseTap(fixture('node-tap.txt')))).toEqual(byName([
      ['fails', 'failed'],
      ['group > deeper > leaf', 'passed'],
      ['group > inner # fails', 'failed'],
      ['group > inner ok', 'passed'],
      ['other passes', 'passed'],
      ['parent > child a', 'passed'],
      ['parent > child b', 'passed'],
      ['passes', 'passed'],
      ['skipped', 'skipped'],
      ['todo', 'skipped'],
    ]));
  });

  it('names the results of a run killed before its parents reported', () => {
    const text = fixture('node-tap.txt');
    const cut = text.slice(0, text.indexOf('    1..3'));
    const results = parseTap(cut);
    expect(results.get('group > deeper > leaf')).toBe('passed');
    expect(results.get('group > inner # fails')).toBe('failed');
    expect(results.has('parent > child a')).toBe(false);
  });

  it('reports a parent that failed on its own (a hook) when all its subtests passed', () => {
    const tap = 'TAP version 13\n# Subtest: s\n    # Subtest: a\n    ok 1 - a\n    1..1\nnot ok 1 - s\n  ---\n  failureType: \'hookFailed\'\n  ...\n1..1\n';
    expect(sorted(parseTap(tap))).toEqual([['s', 'failed'], ['s > a', 'passed']]);
  });
});

describe('go test -json', () => {
  it('reads tests and subtests, and a package that does not build as one erroring pseudo test', () => {
    expect(sorted(parseGoTestJson(fixture('go-test.jsonl')))).toEqual(byName([
      ['example.com/mix/TestFail', 'failed'],
      ['example.com/mix/TestParent', 'failed'],
      ['example.com/mix/TestParent/a', 'passed'],
      ['example.com/mix/TestParent/b_fails', 'failed'],
      ['example.com/mix/TestPass', 'passed'],
      ['example.com/mix/TestSkip', 'skipped'],
      ['example.com/mix/broken (package)', 'error'],
      ['example.com/mix/sub/TestSubPass', 'passed'],
    ]));
  });
});

describe('cargo test', () => {
  it('reads unit, integration and doc tests, prefixed by their target without the hash', () => {
    expect(sorted(parseCargoTest(fixture('cargo-test.txt')))).toEqual(byName([
      ['doc-tests rs::src/lib.rs - add (line 3)', 'passed'],
      ['tests/integ.rs::integration_ok', 'passed'],
      ['unittests src/lib.rs::tests::ignored', 'skipped'],
      ['unittests src/lib.rs::tests::it_fails', 'failed'],
      ['unittests src/lib.rs::tests::it_works', 'passed'],
    ]));
  });
});

describe('jest --json', () => {
  it('names tests by file, describe blocks and title; a file that failed to run is one errored test; junk reads as nothing', () => {
    // The shape jest 30 writes: one passing file with a pending and a failing test, one file whose module did not load.
    const report = JSON.stringify({ success: false, testResults: [
      { name: '/t/test/a.test.js', status: 'failed', assertionResults: [
        { ancestorTitles: ['calc', 'add'], title: 'adds', status: 'passed' }, { ancestorTitles: [], title: 'later', status: 'pending' },
        { ancestorTitles: ['calc'], title: 'breaks', status: 'failed' }, { ancestorTitles: [], title: 'soon', status: 'todo' }] },
      { name: '/t/test/b.test.js', status: 'failed', assertionResults: [], message: '  ● Test suite failed to run' },
      { name: '/t/test/c.test.js', status: 'passed', assertionResults: [] },
    ] });
    expect(Object.fromEntries(parseJestJson(report))).toEqual({
      '/t/test/a.test.js > calc > add > adds': 'passed', '/t/test/a.test.js > later': 'skipped', '/t/test/a.test.js > calc > breaks': 'failed',
      '/t/test/a.test.js > soon': 'skipped', '/t/test/b.test.js': 'error',
    });
    expect(parseJestJson('not json').size).toBe(0);
    expect(parseJestJson('{"testResults": 3}').size).toBe(0);
  });
});

describe('auto format', () => {
  it('recognises each runner by its output', () => {
    expect(parseResults('auto', fixture('go-test.jsonl')).get('example.com/mix/TestPass')).toBe('passed');
    expect(parseResults('auto', fixture('pytest-rA.txt')).get('tests/test_mix.py::test_fail')).toBe('failed');
    expect(parseResults('auto', fixture('node-tap.txt')).get('passes')).toBe('passed');
    expect(parseResults('auto', fixture('unittest-v.txt')).get('tests.test_mix.Mix.test_fail')).toBe('failed');
    expect(parseResults('auto', fixture('cargo-test.txt')).get('tests/integ.rs::integration_ok')).toBe('passed');
    expect(parseResults('auto', 'all good\n').size).toBe(0);
  });
});
