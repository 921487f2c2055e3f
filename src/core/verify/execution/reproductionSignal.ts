/**
 * Signal 5: the reproduction scripts of all rollouts and candidates, and the issue's own code, which must fail
 * on the snapshot and pass with a fix.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AgentError, ErrorReason } from '../../errors.js';
import { Limiter } from '../../limiter.js';
import { NodeProcessRunner } from '../../node/nodeProcessRunner.js';
import { inNamespace } from '../../sandbox/namespacedRunner.js';
import type { ProcessRunner } from '../../types.js';
import type { SignalValue } from '../signalTypes.js';
import { unavailable, type VerifiableCandidate } from '../verifiable.js';
import type { CandidateTrees } from './candidateTrees.js';
import { pythonFor } from './detectTestCommand.js';
import { pythonPathExport } from '../../worktree/editableInstalls.js';
import { issueReproTests, looksLikePython, NOT_A_REPRODUCTION_EXIT, NOT_A_REPRODUCTION_PREFIX, PRINTED_PREFIX } from './issueCode.js';
import { collectReproTests, REPRO_PATTERNS, type ReproTest } from './reproTests.js';
import { lastLine } from './testResults.js';

/** Options of `reproductionSignal`. */
export interface ReproductionOptions {
  runner?: ProcessRunner;
  /** Per script run; defaults to one minute. */
  timeoutMs?: number;
  /** Checkouts worked in at once; the scripts of one checkout run in turn. Defaults to 2; `limiter` wins. */
  concurrency?: number;
  /** Shared with the other test runs of a batch of verifications. */
  limiter?: Limiter;
  signal?: AbortSignal;
  patterns?: readonly string[];
  /** The issue's text: in a Python project, each of its code blocks that fails on the snapshot is a reproduction. */
  issue?: string;
  /** Folders of each checkout put first on PYTHONPATH; the trees' own (CandidateTrees.importPaths) when absent. */
  importPaths?: readonly string[];
}

/** One script's outcome in one checkout. */
export interface ReproRun {
  testId: string;
  passed: boolean;
  /** Why it counts as failing: the exit code, a timeout, a traceback. */
  why: string;
  /** Set when the script says it is no reproduction at all (the issue's code that cannot run here), with why. */
  notAReproduction?: string;
  /** What the issue's code printed where that output itself is the failure (see `issueReproTests`). */
  printed?: string;
}

/** The signal per candidate, with the scripts it was measured with. */
export interface ReproductionResult {
  values: Map<string, SignalValue>;
  tests: ReproTest[];
  /** Scripts that fail on the snapshot: the ones that reproduce the issue. */
  valid: string[];
  /** Scripts dropped, with the reason: they pass on the snapshot, or they are no reproduction at all. */
  discarded: { testId: string; kind: 'passes' | 'not-a-reproduction'; reason: string }[];
}

const DEFAULT_TIMEOUT_MS = 60_000;
// A script may catch its own exception and print it, or print a failed assertion and exit 0.
const FAILURE_TEXT = /Traceback \(most recent call last\)|AssertionError/;

/**
 * Runs every reproduction script on the snapshot, keeps those that fail there, then runs those with each
 * candidate applied. The scripts: those rollouts wrote, those candidates' patches add, and, in a Python
 * project, the issue's code blocks. Score: the number of valid scripts that pass with the candidate. A script
 * fails on a non-zero exit, a timeout, or a Python traceback or AssertionError in its output.
 */
export async function reproductionSignal(
  trees: CandidateTrees,
  candidates: readonly (Pick<VerifiableCandidate, 'id' | 'messages'> & { patch?: string })[],
  options: ReproductionOptions = {},
): Promise<ReproductionResult> {
  const patterns = options.patterns ?? REPRO_PATTERNS;
  const python = looksLikePython(trees.baseline);
  const fromIssue = options.issue !== undefined && python ? issueReproTests(options.issue) : [];
  const tests = [...collectReproTests(candidates, patterns), ...fromIssue];
  const all = (reason: string): Map<string, SignalValue> => new Map(candidates.map((c) => [c.id, unavailable(reason)]));
  if (tests.length === 0) return { values: all(noScripts(candidates, patterns, options.issue, python)), tests, valid: [], discarded: [] };
  const limiter = options.limiter ?? new Limiter(options.concurrency ?? 2);
  // Overlay trees exist only inside their namespace: scripts must start there to see them.
  options = { ...options, runner: options.runner ?? inNamespace(new NodeProcessRunner(), trees.namespace), importPaths: options.importPaths ?? trees.importPaths };
  const onSnapshot = await limiter.run(() => runAll(trees.baseline, tests, options));
  const valid = tests.filter((_, k) => !onSnapshot[k].passed && onSnapshot[k].notAReproduction === undefined);
  const discarded = tests.flatMap((t, k): ReproductionResult['discarded'] => {
    const run = onSnapshot[k];
    if (run.notAReproduction !== undefined) return [{ testId: t.id, kind: 'not-a-reproduction', reason: `not a reproduction: ${run.notAReproduction}` }];
    return run.passed ? [{ testId: t.id, kind: 'passes', reason: 'passes on the snapshot, so it does not reproduce the issue' }] : [];
  });
  const summary = { tests, valid: valid.map((t) => t.id), discarded };
  if (valid.length === 0) {
    return { values: all(`none of the ${tests.length} reproduction script(s) reproduces the issue on the snapshot (${discarded.map((d) => `${d.testId}: ${d.reason}`).join('; ')})`), ...summary };
  }
  const snapshotWhy = new Map(tests.map((t, k) => [t.id, onSnapshot[k].why]));
  const withCandidates = forCandidates(valid, tests, onSnapshot, fromIssue.length > 0 ? options.issue : undefined);
  const values = await Promise.all(candidates.map(async (candidate): Promise<[string, SignalValue]> => {
    const tree = trees.byCandidate.get(candidate.id);
    if (tree === undefined) return [candidate.id, unavailable('no checkout was prepared for this candidate')];
    if (tree instanceof Error) return [candidate.id, unavailable(tree.message)];
    const runs = await limiter.run(() => runAll(tree, withCandidates, options));
    return [candidate.id, score(runs, valid, discarded, snapshotWhy)];
  }));
  return { values: new Map(values), ...summary };
}

/**
 * The valid scripts as they run with the candidates: the issue's code made again with what it printed on the
 * snapshot, where that output was the failure, so that a fix must print another output the issue shows.
 */
function forCandidates(valid: ReproTest[], tests: readonly ReproTest[], onSnapshot: readonly ReproRun[], issue: string | undefined): ReproTest[] {
  if (issue === undefined) return valid;
  const printed = new Map(tests.flatMap((t, k) => (onSnapshot[k].printed === undefined ? [] : [[t.id, onSnapshot[k].printed as string] as const])));
  const again = new Map(issueReproTests(issue, printed).map((t) => [t.id, t]));
  return valid.map((t) => (t.origin === 'issue' ? again.get(t.id) ?? t : t));
}

/** Why there is no script at all, naming every place one was looked for. */
function noScripts(
  candidates: readonly Pick<VerifiableCandidate, 'messages'>[], patterns: readonly string[], issue: string | undefined, python: boolean,
): string {
  const rollouts = candidates.every((c) => (c.messages ?? []).length === 0)
    ? 'no trajectories were given'
    : 'no rollout wrote a reproduction script';
  const code = issue === undefined ? 'no issue text was given'
    : python ? 'the issue shows no code' : 'the project is not Python, whose issues\' code alone is run';
  return `${rollouts}, no patch adds one (a file named ${patterns.join(', ')}), and ${code}`;
}

/**
 * The candidate's score and detail. A script that fails just as on the snapshot (the same exit and last line)
 * is named so: the candidate did not touch what it reproduces, or the project cannot run here at all.
 */
function score(runs: ReproRun[], valid: ReproTest[], discarded: ReproductionResult['discarded'], snapshotWhy: Map<string, string>): SignalValue {
  const passed = runs.filter((r) => r.passed).map((r) => r.testId);
  const failed = runs.filter((r) => !r.passed).map((r) => ({ testId: r.testId, why: r.why }));
  const unchanged = failed.filter((f) => f.why === snapshotWhy.get(f.testId));
  const count = (kind: ReproductionResult['discarded'][number]['kind']) => discarded.filter((d) => d.kind === kind).length;
  const dropped = [
    ...(count('passes') > 0 ? [`${count('passes')} more passed on the snapshot`] : []),
    ...(count('not-a-reproduction') > 0 ? [`${count('not-a-reproduction')} of the issue's code blocks are not reproductions`] : []),
  ];
  const own = dropped.length > 0 ? ` (${dropped.join('; ')})` : '';
  const whys = new Set(unchanged.map((f) => f.why));
  const same = unchanged.length === 0 ? ''
    : `; ${unchanged.length} fail${unchanged.length === 1 ? 's' : ''} as on the snapshot${whys.size === 1 ? ` (${[...whys][0]})` : ''}`;
  return {
    status: 'ok',
    score: passed.length,
    detail: `passes ${passed.length}/${valid.length} reproduction tests${own}${same}`,
    data: {
      passed, failed, unchanged: unchanged.map((f) => f.testId), total: valid.length,
      authors: Object.fromEntries(valid.map((t) => [t.id, t.authors])),
      origins: Object.fromEntries(valid.map((t) => [t.id, t.origin])),
    },
  };
}

/** Runs the scripts one after another in `dir`, each written in place for its run and removed after. */
async function runAll(dir: string, tests: readonly ReproTest[], options: ReproductionOptions): Promise<ReproRun[]> {
  const runs: ReproRun[] = [];
  for (const test of tests) runs.push(await runOne(dir, test, options));
  return runs;
}

// The script is written, run and removed by the runner (inside the sandbox), never by this process: the tree
// is the agent's, and a link planted at the script's path or on its folder (by an earlier script, or the
// patch) would lead a write or a removal from here to any file this process can reach.
const WRITE_RUN_REMOVE = '{ case "$1" in */*) mkdir -p -- "${1%/*}" ;; esac && cat > "$1"; } || { echo "entropo: could not write the script at $1" >&2; exit 96; }; '
  + '"$2" "$1"; code=$?; rm -f -- "$1"; exit $code';
const NOT_WRITTEN_EXIT = 96;

/** Runs one script in `dir`; exported for tests of the verdict rules. */
export async function runOne(dir: string, test: ReproTest, options: ReproductionOptions): Promise<ReproRun> {
  const runner = options.runner ?? new NodeProcessRunner();
  // The script's folder decides what it imports, so it runs where it was written; a file of the repository
  // (or the candidate's patch) at that path is not overwritten, the script runs beside it under another name.
  let path = test.path;
  if (lstatSync(join(dir, path), { throwIfNoEntry: false }) !== undefined) path = join(dirname(path), `entropo_${randomBytes(4).toString('hex')}_${basename(path)}`);
  const program = test.interpreter === 'python3' ? pythonFor(dir) : test.interpreter;
  const result = await runner.exec('sh', ['-c', pythonPathExport(options.importPaths ?? []) + WRITE_RUN_REMOVE, 'sh', path, program],
    { cwd: dir, stdin: test.content, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: options.signal });
  // Killed before it could remove the script: removed the same way.
  if (result.timedOut || result.cancelled) await runner.exec('rm', ['-f', '--', path], { cwd: dir, timeoutMs: 10_000 }).catch(() => undefined);
  const output = result.stdout + result.stderr;
  if (result.cancelled) throw new AgentError(ErrorReason.Cancelled, 'cancelled');
  if (result.timedOut) return { testId: test.id, passed: false, why: `timed out after ${(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s` };
  if (result.exitCode === NOT_WRITTEN_EXIT && /^entropo: could not write the script/m.test(result.stderr)) {
    return { testId: test.id, passed: false, why: `could not be written in the checkout (${lastLine(result.stderr)})` };
  }
  const refusal = test.origin === 'issue' && result.exitCode === NOT_A_REPRODUCTION_EXIT
    ? output.split('\n').find((line) => line.startsWith(NOT_A_REPRODUCTION_PREFIX)) : undefined;
  if (refusal !== undefined) {
    const notAReproduction = refusal.slice(NOT_A_REPRODUCTION_PREFIX.length).trim();
    return { testId: test.id, passed: false, why: `not a reproduction: ${notAReproduction}`, notAReproduction };
  }
  const printed = test.origin === 'issue' ? printedOutput(result.stdout) : undefined;
  // The harness of the issue's code says why its output failed on stdout's last line; noise on stderr (a
  // pyenv shim that cannot write) would otherwise come after it.
  const said = test.origin === 'issue' && lastLine(result.stdout).startsWith('entropo: ') ? lastLine(result.stdout) : lastLine(output);
  if (result.exitCode !== 0) return { testId: test.id, passed: false, why: `exit ${result.exitCode ?? result.signal}: ${said}`, ...(printed === undefined ? {} : { printed }) };
  const failure = output.split('\n').find((line) => FAILURE_TEXT.test(line));
  if (failure !== undefined) return { testId: test.id, passed: false, why: `exit 0 but printed ${failure.trim().slice(0, 200)}` };
  return { testId: test.id, passed: true, why: 'exit 0' };
}

// The harness prints the output as the line before its last, then exits.
function printedOutput(stdout: string): string | undefined {
  const line = stdout.trimEnd().split('\n').at(-2);
  if (!line?.startsWith(PRINTED_PREFIX)) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(PRINTED_PREFIX.length));
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
