import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, FEATURE_SCHEMA, instanceFeatures } from '../../../../src/core/verify/local/features.js';
import { MAX_PATCH_CHARS, fileRole } from '../../../../src/core/verify/local/patchFacts.js';

const lines = (...l: string[]): string => l.join('\n') + '\n';
const at = (vector: Float32Array, name: string): number => vector[FEATURE_NAMES.indexOf(name)];
const f32 = (x: number): number => Math.fround(x);

const ISSUE = [
  'Crash in `compute_total` when the list is empty',
  'Traceback (most recent call last):',
  '  File "/home/u/src/pkg/calc/totals.py", line 12, in compute_total',
  '    return sum(values) / len(values)',
  'ZeroDivisionError: division by zero',
].join('\n');

// The fix: one hunk in the function named by the traceback, plus a test and a leftover script.
const FIX = lines(
  'diff --git a/pkg/calc/totals.py b/pkg/calc/totals.py',
  'index 1111111..2222222 100644',
  '--- a/pkg/calc/totals.py',
  '+++ b/pkg/calc/totals.py',
  '@@ -10,3 +10,5 @@ def compute_total(values):',
  '     """Mean of values."""',
  '-    return sum(values) / len(values)',
  '+    if not values:',
  '+        return 0',
  '+    return sum(values) / len(values)',
  'diff --git a/pkg/calc/tests/test_totals.py b/pkg/calc/tests/test_totals.py',
  'new file mode 100644',
  'index 0000000..3333333',
  '--- /dev/null',
  '+++ b/pkg/calc/tests/test_totals.py',
  '@@ -0,0 +1,2 @@',
  '+def test_empty():',
  '+    assert compute_total([]) == 0',
  'diff --git a/reproduce.py b/reproduce.py',
  'new file mode 100644',
  'index 0000000..4444444',
  '--- /dev/null',
  '+++ b/reproduce.py',
  '@@ -0,0 +1 @@',
  '+print(compute_total([]))',
);
// The same source change with other spacing and no extra files.
const SAME = lines(
  'diff --git a/pkg/calc/totals.py b/pkg/calc/totals.py',
  '--- a/pkg/calc/totals.py',
  '+++ b/pkg/calc/totals.py',
  '@@ -11,2 +11,4 @@',
  '-    return sum(values)  /  len(values)',
  '+    if not values:',
  '+        return 0',
  '+    return sum(values) / len(values)',
);
// A change somewhere else that the issue never mentions.
const ELSEWHERE = lines(
  'diff --git a/pkg/io/readers.py b/pkg/io/readers.py',
  '--- a/pkg/io/readers.py',
  '+++ b/pkg/io/readers.py',
  '@@ -5,2 +5,2 @@ class Reader:',
  '-        self.buffer = []',
  '+        self.buffer = None',
);

describe('instanceFeatures', () => {
  it('counts files by role, hunks and changed lines of a hand-made patch', () => {
    const [fix] = instanceFeatures(ISSUE, [FIX, SAME, ELSEWHERE]);
    expect(fix).toHaveLength(FEATURE_NAMES.length);
    expect(at(fix, 'log_files')).toBe(f32(Math.log1p(3)));
    expect(at(fix, 'log_source_files')).toBe(f32(Math.log1p(1)));
    expect(at(fix, 'log_hunks')).toBe(f32(Math.log1p(3)));
    expect(at(fix, 'log_source_added')).toBe(f32(Math.log1p(3)));
    expect(at(fix, 'log_source_removed')).toBe(f32(Math.log1p(1)));
    expect(at(fix, 'log_all_changed')).toBe(f32(Math.log1p(7)));
    expect(at(fix, 'removed_share')).toBe(f32(1 / 4));
    expect(at(fix, 'test_file_share')).toBe(f32(1 / 3));
    expect(at(fix, 'adds_tests')).toBe(1);
    expect(at(fix, 'log_scratch_files')).toBe(f32(Math.log1p(1)));
    expect(at(fix, 'no_source_file')).toBe(0);
    expect(at(fix, 'log_chars')).toBe(f32(Math.log1p(FIX.length)));
  });

  it('matches the issue: mentioned file, traceback frame and function', () => {
    const [fix, , elsewhere] = instanceFeatures(ISSUE, [FIX, SAME, ELSEWHERE]);
    expect(at(fix, 'file_mentioned_share')).toBe(1);
    expect(at(fix, 'traceback_file_share')).toBe(1);
    expect(at(fix, 'function_in_traceback')).toBe(1);
    expect(at(fix, 'function_in_issue_share')).toBe(1);
    expect(at(fix, 'identifier_precision')).toBeGreaterThan(0.5);
    for (const name of ['file_mentioned_share', 'traceback_file_share', 'function_in_traceback', 'function_in_issue_share']) {
      expect(at(elsewhere, name)).toBe(0);
    }
  });

  it('measures agreement with the other candidates', () => {
    const [fix, same, elsewhere] = instanceFeatures(ISSUE, [FIX, SAME, ELSEWHERE]);
    // FIX and SAME make the same source change; the whole patches differ (test and script files).
    expect(at(fix, 'agree_source_exact')).toBe(f32(1 / 2));
    expect(at(same, 'agree_source_exact')).toBe(f32(1 / 2));
    expect(at(fix, 'agree_exact')).toBe(0);
    expect(at(fix, 'agree_file_set')).toBe(f32(1 / 2));
    expect(at(fix, 'line_jaccard_max')).toBe(1);
    expect(at(elsewhere, 'agree_file_set')).toBe(0);
    expect(at(elsewhere, 'line_jaccard_max')).toBe(0);
    expect(at(elsewhere, 'file_support')).toBe(0);
    expect(at(fix, 'log_candidates')).toBe(f32(Math.log(3)));
  });

  it('is deterministic and does not depend on the order of the candidates', () => {
    const first = instanceFeatures(ISSUE, [FIX, SAME, ELSEWHERE]);
    const again = instanceFeatures(ISSUE, [FIX, SAME, ELSEWHERE]);
    const shuffled = instanceFeatures(ISSUE, [ELSEWHERE, FIX, SAME]);
    expect(again).toEqual(first);
    expect(shuffled[1]).toEqual(first[0]);
    expect(shuffled[2]).toEqual(first[1]);
    expect(shuffled[0]).toEqual(first[2]);
  });

  it('handles a single candidate, an empty patch and an empty issue with finite values', () => {
    const vectors = [...instanceFeatures('', ['']), ...instanceFeatures(ISSUE, [FIX])];
    for (const vector of vectors) expect(vector.every(Number.isFinite)).toBe(true);
    expect(at(vectors[0], 'no_source_file')).toBe(1);
    expect(at(vectors[1], 'agree_exact')).toBe(0);
  });

  it('classifies files by role', () => {
    expect(fileRole('django/db/models/query.py', 'modified')).toBe('source');
    expect(fileRole('tests/queries/test_qs.py', 'modified')).toBe('test');
    expect(fileRole('sympy/core/tests/test_basic.py', 'added')).toBe('test');
    expect(fileRole('reproduce_bug.py', 'added')).toBe('scratch');
    expect(fileRole('setup.py', 'modified')).toBe('source');
    expect(fileRole('build/lib/requests/api.py', 'added')).toBe('scratch');
    expect(fileRole('lib/foo.py.orig', 'added')).toBe('scratch');
  });

  it('bounds the work on a multi-megabyte patch', () => {
    const body = Array.from({ length: 120_000 }, (_, i) => `+generated_line_${i} = ${i} * factor`);
    const huge = lines('diff --git a/pkg/big.py b/pkg/big.py', 'new file mode 100644', '--- /dev/null', '+++ b/pkg/big.py',
      `@@ -0,0 +1,${body.length} @@`, ...body);
    expect(huge.length).toBeGreaterThan(4_000_000);
    const patches = [huge, huge, FIX, SAME, ELSEWHERE, huge.replace('big.py', 'other.py')];
    instanceFeatures(ISSUE, [FIX]); // warm up the JIT so the timing measures the cap, not the compiler
    const started = performance.now();
    const vectors = instanceFeatures(ISSUE, patches);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(3_000);
    expect(at(vectors[0], 'log_chars')).toBe(f32(Math.log1p(huge.length)));
    // Only the first MAX_PATCH_CHARS characters are analysed: far fewer lines than the patch holds.
    const analysed = Math.expm1(at(vectors[0], 'log_source_added'));
    expect(analysed).toBeGreaterThan(1_000);
    expect(analysed).toBeLessThan(MAX_PATCH_CHARS / 20);
    expect(vectors.every((v) => v.every(Number.isFinite))).toBe(true);
  });

  it('names its schema after the feature names', () => {
    expect(FEATURE_SCHEMA).toMatch(/^features_[0-9a-f]{12}$/);
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
  });
});

interface FixtureIssue {
  instance_id: string;
  problem_statement: string;
  candidates: Array<{ id: string; patch: string; features: number[] }>;
}

describe('feature parity with the training data', () => {
  const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'parity.json'), 'utf8')) as {
    schema: string;
    instances: FixtureIssue[];
  };

  it('computes exactly the features the shipped model was trained on', () => {
    expect(fixture.schema).toBe(FEATURE_SCHEMA);
    expect(fixture.instances.length).toBeGreaterThanOrEqual(2);
    for (const issue of fixture.instances) {
      const vectors = instanceFeatures(issue.problem_statement, issue.candidates.map((c) => c.patch));
      issue.candidates.forEach((candidate, i) => expect(Array.from(vectors[i])).toEqual(candidate.features));
    }
  });
});
