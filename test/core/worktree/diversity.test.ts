import { describe, expect, it } from 'vitest';
import { describeDiversity, diversity, normalizePatch } from '../../../src/core/worktree/diversity.js';

const lines = (...l: string[]): string => l.join('\n') + '\n';

// The reference fix: x = 1 becomes x = 2 in f.py.
const P1 = lines(
  'diff --git a/f.py b/f.py',
  'index 1111111..2222222 100644',
  '--- a/f.py',
  '+++ b/f.py',
  '@@ -10,3 +10,3 @@ def g():',
  ' a = 0',
  '-x = 1',
  '+x = 2',
  ' b = 0',
);
// The same fix with other index hashes, other line numbers, other context and other spacing.
const P2 = lines(
  'diff --git a/f.py b/f.py',
  'index 3333333..4444444 100644',
  '--- a/f.py',
  '+++ b/f.py',
  '@@ -20,2 +20,2 @@',
  '-x = 1',
  '+x  =   2   ',
);
// A different fix.
const P3 = lines(
  'diff --git a/f.py b/f.py',
  'index 1111111..5555555 100644',
  '--- a/f.py',
  '+++ b/f.py',
  '@@ -10,3 +10,3 @@',
  '-x = 1',
  '+x = 3',
);
// The reference fix plus a re-indentation of g.py, which is whitespace only.
const P4 = P1 + lines(
  'diff --git a/g.py b/g.py',
  'index 6666666..7777777 100644',
  '--- a/g.py',
  '+++ b/g.py',
  '@@ -1,2 +1,2 @@',
  '-  y = 1',
  '+    y = 1',
  '-',
  '+  ',
);

describe('normalizePatch', () => {
  it('drops index lines, hunk headers, context and whitespace-only differences', () => {
    expect(normalizePatch(P1)).toBe(lines('file f.py (modified)', '-x = 1', '+x = 2'));
    expect(normalizePatch(P2)).toBe(normalizePatch(P1));
    expect(normalizePatch(P4)).toBe(normalizePatch(P1));
    expect(normalizePatch(P3)).not.toBe(normalizePatch(P1));
    expect(normalizePatch('')).toBe('');
  });

  it('keeps the real change inside a hunk that also re-indents, and keeps line order', () => {
    const patch = lines(
      'diff --git a/h.py b/h.py',
      '--- a/h.py',
      '+++ b/h.py',
      '@@ -1,3 +1,3 @@',
      '-  a()',
      '-  b()',
      '+    a()',
      '+    c()',
    );
    expect(normalizePatch(patch)).toBe(lines('file h.py (modified)', '-b()', '+c()'));
    const swapped = lines('diff --git a/h.py b/h.py', '--- a/h.py', '+++ b/h.py', '@@ -1,2 +1,2 @@', '-a', '-b', '+b', '+a');
    expect(normalizePatch(swapped)).toBe(lines('file h.py (modified)', '-a', '+a'));
  });

  it('orders files by path and keeps renames, new files and modes', () => {
    const patch = lines(
      'diff --git a/z.py b/z.py',
      'new file mode 100644',
      'index 0000000..1111111',
      '--- /dev/null',
      '+++ b/z.py',
      '@@ -0,0 +1 @@',
      '+z = 1',
      'diff --git a/b.py b/c.py',
      'similarity index 100%',
      'rename from b.py',
      'rename to c.py',
    );
    expect(normalizePatch(patch)).toBe(lines('file b.py -> c.py', 'file z.py (added)', 'new file mode 100644', '+z = 1'));
  });
});

describe('diversity', () => {
  it('counts distinct normalized patches and averages pairwise line-set Jaccard similarity', () => {
    const result = diversity([P1, P2, P3, P4]);
    expect(result.distinct).toBe(2);
    expect(result.groups).toEqual([[0, 1, 3], [2]]);
    // Sets: P1 = {file, -x = 1, +x = 2}; P3 shares 2 of the 4 elements of the union: 0.5.
    // Pairs: (0,1) 1, (0,2) .5, (0,3) 1, (1,2) .5, (1,3) 1, (2,3) .5 -> 4.5 / 6.
    expect(result.meanPairwiseSimilarity).toBeCloseTo(0.75, 10);
  });

  it('scores disjoint patches 0 and handles empty inputs', () => {
    const other = lines('diff --git a/q.py b/q.py', '--- a/q.py', '+++ b/q.py', '@@ -1 +1 @@', '-q', '+r');
    expect(diversity([P1, other])).toEqual({ distinct: 2, meanPairwiseSimilarity: 0, groups: [[0], [1]] });
    expect(diversity([])).toEqual({ distinct: 0, meanPairwiseSimilarity: 1, groups: [] });
    expect(diversity([P3])).toEqual({ distinct: 1, meanPairwiseSimilarity: 1, groups: [[0]] });
    expect(diversity(['', ''])).toEqual({ distinct: 1, meanPairwiseSimilarity: 1, groups: [[0, 1]] });
    expect(diversity(['', P1]).meanPairwiseSimilarity).toBe(0);
  });

  it('says so when there is no pair to compare, instead of a similarity of 1', () => {
    const describe = (patches: string[]) => describeDiversity(diversity(patches), patches.length);
    expect(describe([])).toBe('no patch to compare');
    expect(describe([P3])).toBe('1 patch, nothing to compare it with');
    expect(describe([P1, P1])).toBe('1 distinct patch of 2, mean pairwise similarity 1.00');
    expect(describe([P1, P2, P3, P4])).toMatch(/^\d distinct patches of 4, mean pairwise similarity 0\.\d\d$/);
  });
});
