/** Both test-running signals of one verification, measured in one shared set of workspaces. */
import type { Verifier } from '../verifier.js';
import { AgentError, ErrorReason } from '../../errors.js';
import { Limiter } from '../../limiter.js';
import { NodeProcessRunner } from '../../node/nodeProcessRunner.js';
import { createProcessRunner, decideRunner, type ContainedRunner } from '../../sandbox/createProcessRunner.js';
import { detectSandbox } from '../../sandbox/detectSandbox.js';
import { inNamespace } from '../../sandbox/namespacedRunner.js';
import type { ContainmentPolicy } from '../../sandbox/sandboxTypes.js';
import { checkoutToHide } from '../../sandbox/secretPaths.js';
import type { ProcessRunner } from '../../types.js';
import type { IsolationKind } from '../../worktree/batchMarker.js';
import { chooseIsolation, type IsolationMode } from '../../worktree/isolation.js';
import type { Snapshot } from '../../worktree/snapshot.js';
import type { SignalValue } from '../signalTypes.js';
import { unavailable, type VerifiableCandidate } from '../verifiable.js';
import { withBrokenRelevance } from './brokenRelevance.js';
import { prepareCandidateTrees, type CandidateTrees, type TreeSpace } from './candidateTrees.js';
import { regressionSignal, type RegressionOptions, type RegressionResult } from './regressionSignal.js';
import { reproductionSignal, type ReproductionResult } from './reproductionSignal.js';
import { withSharedBreaks, type SharedBreaks } from './sharedBreaks.js';

/** Options of `testSignals`. */
export interface TestSignalsOptions {
  /** Folder for the workspaces; outside the user's tree. */
  baseDir?: string;
  /** The user's test command; detected when absent. */
  command?: RegressionOptions['command'];
  /**
   * How the test runs are contained: a sandbox whose only writable folders are this verification's own
   * workspaces. Ignored when `runner` is given.
   */
  containment?: ContainmentPolicy;
  /** Runs the tests and scripts instead (tests of this module); defaults to a NodeProcessRunner without `containment`. */
  runner?: ProcessRunner;
  /** Overlays or worktrees for the workspaces; defaults to `auto` (see `chooseIsolation`). */
  isolation?: IsolationMode;
  /** Per run of the test command; defaults to 10 minutes. */
  testTimeoutMs?: number;
  /** Per run of a reproduction script; defaults to one minute. */
  reproTimeoutMs?: number;
  /** Test runs (and workspaces worked in) at once; defaults to 2. Ignored for test runs when `limiter` is given. */
  concurrency?: number;
  /** Shared by the test runs of several verifications at once, so that together they stay within its slots. */
  limiter?: Limiter;
  /** The issue's text: broken tests of what it names are told apart from others, and its code is a reproduction. */
  issue?: string;
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
 * Makes the workspaces once (the snapshot, and each candidate with its patch), runs the regression tests and
 * then the reproduction scripts in them, and removes them whatever happens. The two signals run one after the
 * other because both write into the same workspaces: a reproduction script lying in one while the test
 * command runs could be collected as a test.
 */
export async function testSignals(
  snap: Snapshot,
  candidates: readonly VerifiableCandidate[],
  options: TestSignalsOptions = {},
): Promise<TestSignals> {
  // An empty patch changes nothing to test: it gets no checkout and no test run (on a large repository each
  // costs minutes), though its trajectory's reproduction script still tests the others.
  const changing = candidates.filter((c) => c.patch.trim() !== '');
  const empty = (values: Map<string, SignalValue>) => {
    for (const c of candidates) if (!changing.includes(c)) values.set(c.id, unavailable('empty patch: nothing to test'));
    return values;
  };
  if (changing.length === 0) {
    return { regression: { values: empty(new Map()) }, reproduction: { values: empty(new Map()), tests: [], valid: [], discarded: [] } };
  }
  const bwrapPath = await sandboxFor(options);
  const kind = await isolationFor(options, bwrapPath);
  // The user's checkout is hidden from the test runs and the filter drivers, but for its git folder and the
  // dependencies linked into the trees.
  const sandbox = options.containment?.sandbox;
  const hiddenPaths = [...(sandbox?.hiddenPaths ?? []), ...checkoutToHide(snap.root, sandbox?.home)];
  // Git runs the repository's filter drivers as it applies each patch, which the agent wrote.
  const filterSandbox = bwrapPath ? { ...sandbox, hiddenPaths, bwrapPath } : undefined;
  const trees = await prepareCandidateTrees(snap, changing, {
    baseDir: options.baseDir, kind, concurrency: options.concurrency, signal: options.signal, filterSandbox,
    onWarning: options.containment?.onWarning,
  });
  let contained: ContainedRunner | undefined;
  try {
    contained = !options.runner && options.containment ? await containedRunner(options.containment, trees, hiddenPaths) : undefined;
    const runner = contained ?? inNamespace(options.runner ?? new NodeProcessRunner(), trees.namespace);
    const limiter = options.limiter ?? new Limiter(options.concurrency ?? 2);
    const shared = { runner, limiter, signal: options.signal };
    // JUnit reports go where a sandboxed test run may write: its tree's own folder of this verification, not a private /tmp.
    const regression = await regressionSignal(trees, changing.map((c) => c.id), {
      ...shared, command: options.command, timeoutMs: options.testTimeoutMs,
    });
    regression.values = empty(withBrokenRelevance(withSharedBreaks(regression.values, changing, options.sharedBreaks), changing, options.issue));
    const reproduction = await reproductionSignal(trees, candidates, { ...shared, timeoutMs: options.reproTimeoutMs, issue: options.issue });
    reproduction.values = empty(reproduction.values);
    return { regression, reproduction };
  } finally {
    await contained?.dispose();
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

/** bubblewrap's path when this verification contains its test runs in sandboxes of its own. */
async function sandboxFor(options: TestSignalsOptions): Promise<string | undefined> {
  if (options.runner || !options.containment) return undefined;
  const support = await detectSandbox();
  return decideRunner(options.containment, support).kind === 'sandbox' ? support.bwrapPath : undefined;
}

// A sandboxed runner made by the caller runs bubblewrap where it was made, outside any overlay's namespace,
// so its test runs need worktrees; so do sandboxes where bubblewrap does not work inside the namespace.
async function isolationFor(options: TestSignalsOptions, bwrapPath: string | undefined): Promise<IsolationKind> {
  if ((options.runner as Partial<ContainedRunner> | undefined)?.sandboxed === true) return 'worktree';
  return (await chooseIsolation(options.isolation, { baseDir: options.baseDir, bwrapPath })).kind;
}

/**
 * The runner of every test run and script of this verification: one contained runner per tree, each writing
 * only its own tree and report folder, chosen by the command's folder. One candidate's tests cannot change
 * another candidate's tree, or the baseline's, while those run. The baseline's is made at once, so that a
 * policy that cannot run here fails before any test; the others when their tree first runs something.
 */
async function containedRunner(policy: ContainmentPolicy, trees: CandidateTrees, hiddenPaths: string[]): Promise<ContainedRunner> {
  const expose = [...(policy.sandbox.expose ?? []), ...trees.dependencies];
  const runners = new Map<string, Promise<ContainedRunner>>();
  const runnerOf = (tree: string): Promise<ContainedRunner> => {
    let runner = runners.get(tree);
    if (runner === undefined) {
      const space = trees.spaces.get(tree) as TreeSpace;
      runner = createProcessRunner({ ...policy, sandbox: { ...policy.sandbox, writable: [space.inside, space.reportDir], namespace: trees.namespace, expose, hiddenPaths } });
      runners.set(tree, runner);
    }
    return runner;
  };
  const treeOf = (cwd: string | undefined): string => {
    const tree = [...trees.spaces.keys()].find((path) => cwd === path || cwd?.startsWith(`${path}/`));
    if (tree === undefined) throw new AgentError(ErrorReason.PathOutsideWorkspace, `no tree of this verification holds ${cwd ?? 'the current folder'}`);
    return tree;
  };
  const first = await runnerOf(trees.baseline);
  return {
    sandboxed: first.sandboxed,
    shell: async (command, options) => (await runnerOf(treeOf(options.cwd))).shell(command, options),
    exec: async (file, args, options) => (await runnerOf(treeOf(options.cwd))).exec(file, args, options),
    dispose: async () => {
      const made = await Promise.allSettled(runners.values());
      await Promise.all(made.flatMap((r) => (r.status === 'fulfilled' ? [r.value.dispose()] : [])));
    },
  };
}
