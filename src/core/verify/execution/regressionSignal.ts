/** Signal 4: the repository's own tests, run on the snapshot and with each candidate applied. */
import { AgentError, ErrorReason } from '../../errors.js';
import { Limiter } from '../../limiter.js';
import { NodeProcessRunner } from '../../node/nodeProcessRunner.js';
import { inNamespace } from '../../sandbox/namespacedRunner.js';
import type { ProcessRunner } from '../../types.js';
import type { SignalValue } from '../signalTypes.js';
import { unavailable } from '../verifiable.js';
import type { CandidateTrees } from './candidateTrees.js';
import { detectTestCommand, type DetectOptions, type TestCommand } from './detectTestCommand.js';
import { rerunFailed, type Rerun } from './rerunTests.js';
import { runTests, type TestRun } from './runTests.js';
import { isFailing, lastLine, type TestResults } from './testResults.js';

/** Options of `regressionSignal`. */
export interface RegressionOptions {
  /** The user's test command; detected in the baseline checkout when absent. */
  command?: DetectOptions['configured'];
  runner?: ProcessRunner;
  /** Per test run; a run past it is killed with its whole process group. Defaults to 10 minutes. */
  timeoutMs?: number;
  /** Test runs at once; defaults to 2. Ignored when `limiter` is given. */
  concurrency?: number;
  /** Shared by every test run of a batch of verifications, so that their sum stays within its slots. */
  limiter?: Limiter;
  signal?: AbortSignal;
}

/** The signal per candidate, with what it was measured against. */
export interface RegressionResult {
  values: Map<string, SignalValue>;
  test?: TestCommand;
  /** The run on the snapshot; absent when no test command was found. */
  baseline?: TestRun;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const NAMES_SHOWN = 5;

/**
 * Runs the test command once on the snapshot, then in each candidate's checkout, and counts the tests that
 * passed before and do not pass after (failed, errored, or no longer reported). A test that fails is run
 * again on its own before it counts (a flake is named, not counted). Score: minus that count, so 0 is best.
 * A run whose outcomes cannot be read per test, or that was killed at its time limit, gives no score but the
 * reason. A correct fix may break tests that assert the old behaviour (DESIGN.md section 5), so the detail
 * names the broken tests for people to judge.
 */
export async function regressionSignal(
  trees: CandidateTrees,
  candidateIds: readonly string[],
  options: RegressionOptions = {},
): Promise<RegressionResult> {
  const all = (reason: string): Map<string, SignalValue> => new Map(candidateIds.map((id) => [id, unavailable(reason)]));
  // Overlay trees exist only inside their namespace: test runs must start there to see them.
  const runner = options.runner ?? inNamespace(new NodeProcessRunner(), trees.namespace);
  const detected = await detectTestCommand(trees.baseline, { configured: options.command, runner, signal: options.signal });
  if (!detected.found) return { values: all(detected.reason) };
  const test = detected.test;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const limiter = options.limiter ?? new Limiter(options.concurrency ?? 2);
  // Each tree's reports go to its own folder, which only its own runs may write.
  const runOptions = (tree: string) => ({ runner, timeoutMs, signal: options.signal, reportDir: trees.spaces.get(tree)?.reportDir, importPaths: trees.importPaths });
  const baseline = await limiter.run(() => runTests(trees.baseline, test, runOptions(trees.baseline)));
  if (baseline.cancelled) throw new AgentError(ErrorReason.Cancelled, 'cancelled');
  const broken = baselineProblem(baseline, test, timeoutMs);
  if (broken !== undefined) return { values: all(broken), test, baseline };
  const values = await Promise.all(candidateIds.map(async (id): Promise<[string, SignalValue]> => {
    const tree = trees.byCandidate.get(id);
    if (tree === undefined) return [id, unavailable('no checkout was prepared for this candidate')];
    if (tree instanceof Error) return [id, unavailable(tree.message)];
    const run = await limiter.run(() => runTests(tree, test, runOptions(tree)));
    if (run.cancelled) throw new AgentError(ErrorReason.Cancelled, 'cancelled');
    if (run.timedOut) return [id, unavailable(`the test run was killed at its time limit of ${seconds(timeoutMs)} s (raise the test timeout)`)];
    // Tests of a module that no longer imports with the candidate count as broken (brokenTests), not as unreadable
    if (run.unreadable !== undefined && !run.uncollected?.length) {
      return [id, unavailable(`the test run with this candidate cannot be read per test: ${run.unreadable}`)];
    }
    const failed = brokenTests(baseline, run);
    const rerun = await limiter.run(() => rerunFailed(tree, test, failed, runOptions(tree)));
    if (options.signal?.aborted) throw new AgentError(ErrorReason.Cancelled, 'cancelled');
    return [id, compare(baseline, run, rerun)];
  }));
  return { values: new Map(values), test, baseline };
}

// pytest's exit code when it collected no test at all.
const PYTEST_NO_TESTS = 5;

/**
 * Why the baseline run cannot be compared against, or undefined when it can. A command that was detected says
 * what it was chosen from, since that is often the cause (pytest configured but not installed, so unittest ran).
 */
function baselineProblem(run: TestRun, test: TestCommand, timeoutMs: number): string | undefined {
  const why = baselineFailure(run, test, timeoutMs);
  return why === undefined || test.kind === 'configured' ? why : `${why} (the command was chosen from: ${test.reason})`;
}

function baselineFailure(run: TestRun, test: TestCommand, timeoutMs: number): string | undefined {
  if (run.timedOut) return `\`${test.command}\` timed out on the snapshot after ${seconds(timeoutMs)} s; raise the test timeout or configure a faster command`;
  if (!run.perTest && run.exitCode === PYTEST_NO_TESTS && test.format === 'pytest') {
    return `\`${test.command}\` collected no tests on the snapshot (pytest's exit 5), so none can break: ${lastLine(run.tail)}`;
  }
  if (!run.perTest && run.exitCode !== 0) {
    return `\`${test.command}\` fails on the snapshot itself (exit ${run.exitCode}), so it cannot tell what a patch breaks: ${lastLine(run.tail)}`;
  }
  if (run.unreadable !== undefined) {
    const exit = run.exitCode !== 0 ? ` (exit ${run.exitCode}: ${lastLine(run.tail)})` : '';
    return `the run of \`${test.command}\` on the snapshot cannot be read per test: ${run.unreadable}${exit}`;
  }
  const passing = [...run.results.values()].filter((s) => s === 'passed').length;
  if (passing === 0) return `no test passes on the snapshot (${run.results.size} reported), so none can break`;
  return undefined;
}

/** Tests that passed in `before` and fail, error or are missing in `after`, sorted. */
function brokenTests(before: TestRun, after: TestRun): string[] {
  // A test that passed before and is not reported now counts as broken: a module that no longer imports. A
  // test now skipped does not. One renamed by a number of its name is looked for under its new name.
  const renamed = renamedByNumber(before.results, after.results);
  return [...before.results].filter(([id, s]) => {
    const now = after.results.get(id) ?? after.results.get(renamed.get(id) ?? '');
    return s === 'passed' && (now === undefined || isFailing(now));
  }).map(([id]) => id).sort();
}

/**
 * Tests whose name holds a number that changes from run to run (a timestamp, a random seed or port:
 * `test_x[4711]`) are missing after the change under the old name and new under another. Names alike but for
 * their numbers of four digits or more are paired, old to new, where as many went as came; others stay
 * unpaired, so a candidate that replaces `test_issue_12` with `test_issue_34` has still removed a test.
 */
function renamedByNumber(before: TestResults, after: TestResults): Map<string, string> {
  const byShape = (ids: string[]) => {
    const groups = new Map<string, string[]>();
    for (const id of ids) {
      const shape = id.replace(/\d{4,}/g, '#');
      groups.set(shape, [...(groups.get(shape) ?? []), id]);
    }
    return groups;
  };
  const gone = byShape([...before.keys()].filter((id) => !after.has(id) && /\d{4}/.test(id)));
  const fresh = byShape([...after.keys()].filter((id) => !before.has(id)));
  const pairs = new Map<string, string>();
  for (const [shape, old] of gone) {
    const now = fresh.get(shape) ?? [];
    if (now.length === old.length) old.forEach((id, k) => pairs.set(id, now[k]));
  }
  return pairs;
}

/** The signal of one candidate's run against the baseline run; `rerun` says which failures were flakes. */
export function compare(before: TestRun, after: TestRun, rerun?: Rerun): SignalValue {
  const flaky = rerun?.flaky ?? [];
  const broken = brokenTests(before, after).filter((id) => !flaky.includes(id));
  const passedBefore = [...before.results.values()].filter((s) => s === 'passed').length;
  const fixed = [...before.results].filter(([id, s]) => s !== 'passed' && after.results.get(id) === 'passed').map(([id]) => id).sort();
  // Failing tests the snapshot did not have: new tests of the patch, or a package that no longer builds.
  const renamedTo = new Set(renamedByNumber(before.results, after.results).values());
  const newFailing = [...after.results].filter(([id, s]) => !before.results.has(id) && !renamedTo.has(id) && isFailing(s)).map(([id]) => id).sort();
  const total = passedBefore;
  let detail = broken.length === 0
    ? `${total}/${total} tests that passed before still pass`
    : `breaks ${broken.length} of ${total} passing tests: ${listNames(broken)}`;
  if (fixed.length > 0) detail += `; now passes ${fixed.length} that failed before`;
  if (flaky.length > 0) detail += `; ${flaky.length} flaky (failed, then passed when run alone): ${listNames(flaky)}`;
  const data = {
    broken, fixed, newFailing, flaky, passedBefore: total, exitCode: after.exitCode, durationMs: after.durationMs,
    ...(rerun?.note !== undefined ? { rerunNote: rerun.note } : {}),
  };
  return { status: 'ok', score: broken.length === 0 ? 0 : -broken.length, detail, data };
}

/** Short names when they tell the tests apart (`test_a`), full ids otherwise; at most NAMES_SHOWN. */
function listNames(ids: string[]): string {
  const short = ids.map((id) => {
    // Parameters (`test_x[1.5-a/b]`) stay whole; the name before them is the last segment of the path.
    const [, path, params = ''] = /^(.*?)(\[.*\])?$/s.exec(id) ?? ['', id];
    return (path.split(/::| > |[./#]/).filter(Boolean).at(-1) ?? path) + params;
  });
  const names = new Set(short).size === short.length ? short : ids;
  const more = names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : '';
  return names.slice(0, NAMES_SHOWN).join(', ') + more;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1);
}
