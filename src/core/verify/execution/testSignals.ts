/** Both test-running signals of one verification, measured in one shared set of worktrees. */
import type { Verifier } from '../verifier.js';
import { Limiter } from '../../limiter.js';
import type { ProcessRunner } from '../../types.js';
import { defaultBaseDir } from '../../worktree/worktrees.js';
import type { Snapshot } from '../../worktree/snapshot.js';
import type { VerifiableCandidate } from '../verifiable.js';
import { prepareCandidateTrees } from './candidateTrees.js';
import { regressionSignal, type RegressionOptions, type RegressionResult } from './regressionSignal.js';
import { reproductionSignal, type ReproductionResult } from './reproductionSignal.js';
import { withSharedBreaks, type SharedBreaks } from './sharedBreaks.js';

/** Options of `testSignals`. */
export interface TestSignalsOptions {
  /** Folder for the worktrees; outside the user's tree. */
  baseDir?: string;
  /** The user's test command; detected when absent. */
  command?: RegressionOptions['command'];
  /** Runs the tests and scripts; a sandboxed runner goes here. Defaults to a NodeProcessRunner. */
  runner?: ProcessRunner;
  /** Per run of the test command; defaults to 10 minutes. */
  testTimeoutMs?: number;
  /** Per run of a reproduction script; defaults to one minute. */
  reproTimeoutMs?: number;
  /** Test runs (and checkouts worked in) at once; defaults to 2. Ignored for test runs when `limiter` is given. */
  concurrency?: number;
  /** Shared by the test runs of several verifications at once, so that together they stay within its slots. */
  limiter?: Limiter;
  /** How tests broken by every source-changing candidate are scored; defaults to `count`. */
  sharedBreaks?: SharedBreaks;
  signal?: AbortSignal;
}

/** Signals 4 and 5 for every candidate. */
export interface TestSignals {
  regression: RegressionResult;
  reproduction: ReproductionResult;
}

/**
 * Creates the worktrees once (the snapshot, and each candidate with its patch), runs the regression tests and
 * then the reproduction scripts in them, and removes them whatever happens. The two signals run one after the
 * other because both write into the same checkouts: a reproduction script lying in a checkout while the test
 * command runs could be collected as a test.
 */
export async function testSignals(
  snap: Snapshot,
  candidates: readonly VerifiableCandidate[],
  options: TestSignalsOptions = {},
): Promise<TestSignals> {
  const trees = await prepareCandidateTrees(snap, candidates, {
    baseDir: options.baseDir, concurrency: options.concurrency, signal: options.signal,
  });
  try {
    const limiter = options.limiter ?? new Limiter(options.concurrency ?? 2);
    const shared = { runner: options.runner, limiter, signal: options.signal };
    // JUnit reports go where a sandboxed test run may write: the worktrees' folder, not a private /tmp.
    const regression = await regressionSignal(trees, candidates.map((c) => c.id), {
      ...shared, command: options.command, timeoutMs: options.testTimeoutMs, reportDir: options.baseDir ?? defaultBaseDir(),
    });
    regression.values = withSharedBreaks(regression.values, candidates, options.sharedBreaks);
    const reproduction = await reproductionSignal(trees, candidates, { ...shared, timeoutMs: options.reproTimeoutMs });
    return { regression, reproduction };
  } finally {
    await trees.dispose();
  }
}

/** The test signals of candidates made from `snap`, for `verifyCandidates`. */
export function testVerifier(snap: Snapshot, options: Omit<TestSignalsOptions, 'signal'> = {}): Verifier {
  return {
    signals: ['regression', 'reproduction'], runsCode: true,
    verify: async (candidates, signal) => {
      const { regression, reproduction } = await testSignals(snap, candidates, { ...options, signal });
      return { regression: regression.values, reproduction: reproduction.values };
    },
  };
}
