/**
 * The local verifier's feature vector: one implementation for training (bench/verifier/extractFeatures.ts)
 * and for the product, so that the model always sees features computed the same way.
 */

import { createHash } from 'node:crypto';
import { issueFacts, mentionsFile, pathTail, type IssueFacts } from './issueFacts.js';
import { patchFacts, type PatchFacts } from './patchFacts.js';

/** Names of the features in vector order; the shipped model records them and is refused when they differ. */
export const FEATURE_NAMES: readonly string[] = [
  // The candidate alone.
  'log_chars', 'log_files', 'log_source_files', 'log_hunks', 'log_source_added', 'log_source_removed',
  'log_all_changed', 'removed_share', 'test_file_share', 'no_source_file', 'adds_tests', 'log_scratch_files',
  'log_new_source_files', 'source_change_empty', 'log_added_prints', 'log_added_excepts', 'comment_share',
  'log_functions',
  // The candidate against the issue.
  'file_mentioned_share', 'any_file_mentioned', 'traceback_file_share', 'function_in_issue_share',
  'function_in_traceback', 'identifier_precision', 'identifier_recall', 'code_identifier_recall',
  // The candidate against the other candidates of the same issue.
  'agree_exact', 'agree_source_exact', 'agree_file_set', 'file_jaccard_mean', 'line_jaccard_mean',
  'line_jaccard_max', 'function_jaccard_mean', 'file_support',
  // The candidate's standing among the candidates.
  'size_z', 'size_rank', 'is_smallest', 'identifier_precision_z', 'line_jaccard_z', 'log_candidates',
];

/** A short fingerprint of FEATURE_NAMES; the model's input is named after it so a stale model is detected. */
export const FEATURE_SCHEMA = `features_${createHash('sha256').update(FEATURE_NAMES.join('\n')).digest('hex').slice(0, 12)}`;

type Row = Record<string, number>;

/**
 * Feature vectors of every candidate patch of one issue, in the order of `patches`. Each vector depends on
 * the problem statement, the candidate, and the other candidates (agreement and relative size).
 */
export function instanceFeatures(problemStatement: string, patches: readonly string[]): Float32Array[] {
  const issue = issueFacts(problemStatement);
  const facts = patches.map(patchFacts);
  const rows = facts.map((f) => ({ ...ownFeatures(f), ...issueFeatures(f, issue) }));
  facts.forEach((f, i) => Object.assign(rows[i], agreementFeatures(f, facts.filter((_, j) => j !== i))));
  addRelativeFeatures(rows, facts);
  return rows.map((row) => Float32Array.from(FEATURE_NAMES, (name) => row[name]));
}

function ownFeatures(f: PatchFacts): Row {
  const source = f.files.filter((file) => file.role === 'source');
  const tests = f.files.filter((file) => file.role === 'test');
  const changed = f.sourceAdded + f.sourceRemoved;
  return {
    log_chars: Math.log1p(f.chars),
    log_files: Math.log1p(f.files.length),
    log_source_files: Math.log1p(source.length),
    log_hunks: Math.log1p(f.hunks),
    log_source_added: Math.log1p(f.sourceAdded),
    log_source_removed: Math.log1p(f.sourceRemoved),
    log_all_changed: Math.log1p(f.allAdded + f.allRemoved),
    removed_share: ratio(f.sourceRemoved, changed),
    test_file_share: ratio(tests.length, f.files.length),
    no_source_file: source.length === 0 ? 1 : 0,
    adds_tests: tests.length > 0 ? 1 : 0,
    log_scratch_files: Math.log1p(f.files.length - source.length - tests.length),
    log_new_source_files: Math.log1p(source.filter((file) => file.status === 'added').length),
    source_change_empty: source.length > 0 && f.sourceLines.size === 0 ? 1 : 0,
    log_added_prints: Math.log1p(f.addedPrints),
    log_added_excepts: Math.log1p(f.addedExcepts),
    comment_share: ratio(f.addedComments, f.sourceAdded),
    log_functions: Math.log1p(f.functions.size),
  };
}

function issueFeatures(f: PatchFacts, issue: IssueFacts): Row {
  const source = f.files.filter((file) => file.role === 'source').map((file) => file.path);
  const mentioned = source.filter((path) => mentionsFile(issue, path)).length;
  const inTraceback = source.filter((path) => issue.tracebackTails.has(pathTail(path))).length;
  const functions = [...f.functions];
  const shared = countShared(f.identifiers, issue.identifiers);
  return {
    file_mentioned_share: ratio(mentioned, source.length),
    any_file_mentioned: mentioned > 0 ? 1 : 0,
    traceback_file_share: ratio(inTraceback, source.length),
    function_in_issue_share: ratio(functions.filter((name) => issue.identifiers.has(name)).length, functions.length),
    function_in_traceback: functions.some((name) => issue.tracebackFunctions.has(name)) ? 1 : 0,
    identifier_precision: ratio(shared, f.identifiers.size),
    identifier_recall: ratio(shared, issue.identifiers.size),
    code_identifier_recall: ratio(countShared(issue.codeIdentifiers, f.identifiers), issue.codeIdentifiers.size),
  };
}

function agreementFeatures(f: PatchFacts, others: PatchFacts[]): Row {
  const sourceFiles = new Set(f.files.filter((file) => file.role === 'source').map((file) => file.path));
  const otherFiles = others.map((o) => new Set(o.files.filter((file) => file.role === 'source').map((file) => file.path)));
  const lineSimilarity = others.map((o) => jaccard(f.sourceLines, o.sourceLines));
  const support = [...sourceFiles].map((path) => ratio(otherFiles.filter((set) => set.has(path)).length, others.length));
  return {
    agree_exact: ratio(others.filter((o) => o.normalized === f.normalized).length, others.length),
    agree_source_exact: f.sourceLines.size === 0 ? 0
      : ratio(others.filter((o) => jaccard(f.sourceLines, o.sourceLines) === 1).length, others.length),
    agree_file_set: sourceFiles.size === 0 ? 0 : ratio(others.filter((o) => o.sourceFileKey === f.sourceFileKey).length, others.length),
    file_jaccard_mean: mean(otherFiles.map((set) => jaccard(sourceFiles, set))),
    line_jaccard_mean: mean(lineSimilarity),
    line_jaccard_max: lineSimilarity.length === 0 ? 0 : Math.max(...lineSimilarity),
    function_jaccard_mean: mean(others.map((o) => jaccard(f.functions, o.functions))),
    file_support: mean(support),
  };
}

function addRelativeFeatures(rows: Row[], facts: PatchFacts[]): void {
  const sizes = facts.map((f) => Math.log1p(f.sourceAdded + f.sourceRemoved));
  const withSource = sizes.filter((_, i) => rows[i].no_source_file === 0);
  const smallest = withSource.length > 0 ? Math.min(...withSource) : Number.NaN;
  const sizeZ = zScores(sizes);
  const precisionZ = zScores(rows.map((r) => r.identifier_precision));
  const lineZ = zScores(rows.map((r) => r.line_jaccard_mean));
  rows.forEach((row, i) => {
    const below = sizes.filter((s) => s < sizes[i]).length;
    const equal = sizes.filter((s) => s === sizes[i]).length - 1;
    Object.assign(row, {
      size_z: sizeZ[i],
      size_rank: ratio(below + equal / 2, sizes.length - 1),
      is_smallest: row.no_source_file === 0 && sizes[i] === smallest ? 1 : 0,
      identifier_precision_z: precisionZ[i],
      line_jaccard_z: lineZ[i],
      log_candidates: Math.log(rows.length),
    });
  });
}

/** Standard scores within the issue; 0 for all when the values do not vary. */
function zScores(values: number[]): number[] {
  const m = mean(values);
  const sd = Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
  return values.map((v) => (sd < 1e-9 ? 0 : (v - m) / sd));
}

function countShared<T>(a: Set<T>, b: Set<T>): number {
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  return shared;
}

function jaccard<T>(a: Set<T>, b: Set<T>): number {
  if (a.size === 0 && b.size === 0) return 0;
  const shared = countShared(a, b);
  return shared / (a.size + b.size - shared);
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

/** Mean of `values`, summed in sorted order so that the candidates' order cannot change the last bit. */
function mean(values: number[]): number {
  return values.length === 0 ? 0 : [...values].sort((a, b) => a - b).reduce((a, b) => a + b, 0) / values.length;
}

