/** Measures how different N candidate patches are: distinct patches after normalization and mean pairwise similarity. */
import { parsePatch, type FilePatch } from './parse.js';

/** Diversity figures of a set of candidate patches. */
export interface Diversity {
  /** Number of different patches after `normalizePatch`. */
  distinct: number;
  /**
   * Mean over all pairs of the Jaccard index of the two patches' changed-line sets (1 when there is no pair).
   * Jaccard rather than a difflib-style ratio: it is symmetric, ignores where in a file a line lands (which
   * `normalizePatch` already dropped with the line numbers), and costs linear time per pair.
   */
  meanPairwiseSimilarity: number;
  /** Indices of the patches grouped by normalized patch, largest group first: the agreement clusters. */
  groups: number[][];
}

/** Above this many cells the per-hunk LCS gives way to an all-or-nothing comparison, to bound the time. */
const MAX_LCS_CELLS = 4_000_000;

/**
 * A canonical form of a patch: files in path order, no index lines, no hunk headers or line numbers, no
 * context, whitespace collapsed, and within each hunk the removed/added lines that differ only in whitespace
 * cancelled. Binary payloads are kept as they are.
 */
export function normalizePatch(patch: string): string {
  const files = parsePatch(patch).sort((a, b) => fileKey(a).localeCompare(fileKey(b)));
  const out: string[] = [];
  for (const file of files) {
    const body = file.binary ? file.body : normalizeHunks(file.body);
    const modes = file.header.filter((l) => /^(new|deleted) (file )?mode /.test(l));
    if (body.length === 0 && modes.length === 0 && file.status !== 'renamed') continue;
    out.push(`file ${describeFile(file)}`, ...modes, ...body);
  }
  return out.length > 0 ? out.join('\n') + '\n' : '';
}

/** Distinct patches, mean pairwise line-set Jaccard similarity and agreement groups of `patches`. */
export function diversity(patches: readonly string[]): Diversity {
  const normalized = patches.map(normalizePatch);
  const byPatch = new Map<string, number[]>();
  normalized.forEach((text, i) => byPatch.set(text, [...(byPatch.get(text) ?? []), i]));
  const groups = [...byPatch.values()].sort((a, b) => b.length - a.length || a[0] - b[0]);
  const sets = normalized.map(lineSet);
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      total += jaccard(sets[i], sets[j]);
      pairs++;
    }
  }
  return { distinct: byPatch.size, meanPairwiseSimilarity: pairs === 0 ? 1 : total / pairs, groups };
}

/**
 * The figures of `patches` non-empty patches in words: "3 distinct patches of 4, mean pairwise similarity
 * 0.42"; with fewer than two there is no pair to compare, which is said rather than a similarity of 1.
 */
export function describeDiversity(d: Pick<Diversity, 'distinct' | 'meanPairwiseSimilarity'>, patches: number): string {
  if (patches === 0) return 'no patch to compare';
  if (patches === 1) return '1 patch, nothing to compare it with';
  return `${d.distinct} distinct patch${d.distinct === 1 ? '' : 'es'} of ${patches}, mean pairwise similarity ${d.meanPairwiseSimilarity.toFixed(2)}`;
}

/** The changed lines of a normalized patch, each qualified by its file so that equal lines in two files differ. */
function lineSet(normalized: string): Set<string> {
  const set = new Set<string>();
  let file = '';
  for (const line of normalized.split('\n')) {
    if (line.startsWith('file ')) {
      file = line;
      set.add(file);
    } else if (line) set.add(`${file}\0${line}`);
  }
  return set;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

function normalizeHunks(body: string[]): string[] {
  const out: string[] = [];
  let hunk: string[] = [];
  for (const line of [...body, '@@']) {
    if (!line.startsWith('@@')) {
      hunk.push(line);
      continue;
    }
    out.push(...normalizeHunk(hunk));
    hunk = [];
  }
  return out;
}

// Keeps the removed and added lines (whitespace collapsed, blank ones dropped) and cancels the longest
// common subsequence of removed and added lines: what remains is the change beyond whitespace.
function normalizeHunk(lines: string[]): string[] {
  const changed: Array<{ sign: string; text: string }> = [];
  for (const line of lines) {
    const sign = line[0];
    if (sign !== '+' && sign !== '-') continue;
    const text = line.slice(1).trim().replace(/\s+/g, ' ');
    if (text) changed.push({ sign, text });
  }
  const removed = changed.filter((c) => c.sign === '-');
  const added = changed.filter((c) => c.sign === '+');
  const cancelled = new Set(commonSubsequence(removed.map((c) => c.text), added.map((c) => c.text)).flatMap(
    ([i, j]) => [removed[i], added[j]],
  ));
  return changed.filter((c) => !cancelled.has(c)).map((c) => `${c.sign}${c.text}`);
}

/** Index pairs of a longest common subsequence of `a` and `b`. */
function commonSubsequence(a: string[], b: string[]): Array<[number, number]> {
  if (a.length === 0 || b.length === 0) return [];
  if (a.length * b.length > MAX_LCS_CELLS) {
    return a.length === b.length && a.every((x, i) => x === b[i]) ? a.map((_, i) => [i, i]) : [];
  }
  const table = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (table[i + 1][j] >= table[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}

function fileKey(file: FilePatch): string {
  return file.newPath ?? file.oldPath ?? '';
}

function describeFile(file: FilePatch): string {
  if (file.status === 'renamed' || file.status === 'copied') return `${file.oldPath} -> ${file.newPath}`;
  return `${fileKey(file)} (${file.status})`;
}
