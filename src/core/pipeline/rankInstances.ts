/** Ranks candidates made elsewhere, one issue after another or several at once, each in its own verification. */
import { AgentError, ErrorReason, isAbort } from '../errors.js';
import { Limiter } from '../limiter.js';
import { createProcessRunner } from '../sandbox/createProcessRunner.js';
import type { ContainmentPolicy } from '../sampling/runBatch.js';
import type { ProcessRunner } from '../types.js';
import { select, type SelectOptions } from '../verify/select.js';
import type { CandidateSignals, SignalName } from '../verify/signalTypes.js';
import type { SharedBreaks } from '../verify/execution/sharedBreaks.js';
import { testSignalProvider } from '../verify/execution/testSignals.js';
import type { VerifiableCandidate } from '../verify/verifiable.js';
import { verifyCandidates, type SignalProvider, type VerifyOptions } from '../verify/verifyCandidates.js';
import { gitResult } from '../worktree/git.js';
import { locateRepository } from '../worktree/snapshot.js';
import { defaultBaseDir, pruneStale } from '../worktree/worktrees.js';

/** One issue with its candidates; a line that could not be read arrives as `invalid` with the reason. */
export type RankInput =
  | { kind: 'instance'; instanceId: string; issue: string; baseCommit?: string; testCommand?: string; candidates: VerifiableCandidate[] }
  | { kind: 'invalid'; line: number; instanceId?: string; error: string };

/** What `rankInstances` reports per input, in the order the inputs finish. */
export type RankRecord =
  | {
      instance_id: string; status: 'ranked'; mode: string; ranking: string[]; explanations: Record<string, string>;
      signals: Record<string, CandidateSignals['signals']>; duration_ms: number;
    }
  | { instance_id?: string; line?: number; status: 'error'; reason: string; error: string; duration_ms?: number };

/** Options of `rankInstances`. */
export interface RankOptions {
  /** A checkout of the repository: with it the apply, syntax and test signals run. */
  repoDir?: string;
  /** Signals kept in the output; the test signals run only when one of them is kept. Default: all. */
  keep?: ReadonlySet<SignalName>;
  judge?: VerifyOptions['judge'];
  /** The local verifier for one issue. */
  local?: (issue: string) => SignalProvider | undefined;
  selector?: SelectOptions;
  /** Test command (an input's own wins), time limit per test run, test runs at once over all issues. */
  tests?: { command?: string; timeoutMs?: number; concurrency?: number; sharedBreaks?: SharedBreaks };
  /** How test runs are contained, as for `run`; required unless `runner` is given. */
  containment?: ContainmentPolicy;
  /** Runs the tests instead of a contained runner (tests of this module). */
  runner?: ProcessRunner;
  /** Issues verified at once; default 1. */
  concurrency?: number;
  worktreeBaseDir?: string;
  signal?: AbortSignal;
}

/**
 * Verifies and ranks every input, calling `onRecord` as each one finishes. An issue that cannot be ranked
 * (its base commit is not in the checkout, its verification fails) becomes an error record and the others go
 * on; a contained runner that cannot be built (no sandbox and no consent) fails the whole call before any
 * issue runs. All issues share the one checkout: each gets its own worktrees of its base commit.
 */
export async function rankInstances(
  inputs: AsyncIterable<RankInput>,
  options: RankOptions,
  onRecord: (record: RankRecord) => Promise<void> | void,
): Promise<{ ranked: number; failed: number }> {
  const baseDir = options.worktreeBaseDir ?? defaultBaseDir();
  const root = options.repoDir === undefined ? undefined : (await locateRepository(options.repoDir, { signal: options.signal })).root;
  const wantsTests = root !== undefined && (!options.keep || options.keep.has('regression') || options.keep.has('reproduction'));
  if (wantsTests && !options.runner) {
    if (!options.containment) throw new AgentError(ErrorReason.Config, 'running tests needs a containment policy');
    // A policy that cannot run here (no sandbox, no consent) fails the whole call now, before any issue runs;
    // each verification then contains its test runs to its own workspaces, like the rollouts of `run`.
    await (await createProcessRunner({ ...options.containment, sandbox: { ...options.containment.sandbox, writable: [baseDir] } })).dispose();
  }
  if (root !== undefined) await pruneStale(root, { baseDir });
  const limiter = new Limiter(options.tests?.concurrency ?? 2);
  const counts = { ranked: 0, failed: 0 };
  const iterator = inputs[Symbol.asyncIterator]();
  const worker = async (): Promise<void> => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const record = await rankOne(next.value, { ...options, root, wantsTests, baseDir, limiter });
      counts[record.status === 'ranked' ? 'ranked' : 'failed']++;
      await onRecord(record);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  return counts;
}

type OneOptions = RankOptions & { root?: string; wantsTests: boolean; baseDir: string; limiter: Limiter };

async function rankOne(input: RankInput, o: OneOptions): Promise<RankRecord> {
  if (input.kind === 'invalid') {
    return { ...(input.instanceId ? { instance_id: input.instanceId } : {}), line: input.line, status: 'error', reason: 'invalid_input', error: input.error };
  }
  const started = Date.now();
  try {
    const commit = o.root === undefined ? undefined : await resolveCommit(o.root, input.baseCommit ?? 'HEAD', o.signal);
    const checkout = o.root !== undefined && commit !== undefined ? { root: o.root, snapshotCommit: commit } : undefined;
    const tests = checkout && o.wantsTests
      ? testSignalProvider({ root: checkout.root, commit: checkout.snapshotCommit, baseHead: checkout.snapshotCommit, ref: '' }, {
          baseDir: o.baseDir, runner: o.runner, containment: o.containment, limiter: o.limiter, command: input.testCommand ?? o.tests?.command,
          testTimeoutMs: o.tests?.timeoutMs, sharedBreaks: o.tests?.sharedBreaks,
        })
      : undefined;
    const local = !o.keep || o.keep.has('local') ? o.local?.(input.issue) : undefined;
    const signals = await verifyCandidates(input.candidates, { issue: input.issue, checkout, judge: o.judge, tests, local, signal: o.signal });
    if (o.keep) for (const s of signals) for (const name of Object.keys(s.signals) as SignalName[]) if (!o.keep.has(name)) delete s.signals[name];
    const steps = new Map(input.candidates.map((c) => [c.id, c.steps]));
    const ranking = select(signals.map((s) => ({ ...s, steps: steps.get(s.candidateId) })), o.selector);
    return {
      instance_id: input.instanceId, status: 'ranked', mode: ranking.mode, ranking: ranking.order, explanations: ranking.explanations,
      signals: Object.fromEntries(signals.map((s) => [s.candidateId, s.signals])), duration_ms: Date.now() - started,
    };
  } catch (error) {
    if (isAbort(error)) throw error;
    const reason = error instanceof AgentError ? error.reason : 'failed';
    return { instance_id: input.instanceId, status: 'error', reason, error: error instanceof Error ? error.message : String(error), duration_ms: Date.now() - started };
  }
}

/** The full id of `commit` in the checkout, or an error that says the checkout lacks it. */
async function resolveCommit(root: string, commit: string, signal?: AbortSignal): Promise<string> {
  const found = await gitResult(['rev-parse', '-q', '--verify', `${commit}^{commit}`], { cwd: root, signal, timeoutMs: 30_000 });
  if (found.code !== 0) {
    throw new AgentError(ErrorReason.MissingCommit,
      `base_commit ${commit} is not in the checkout at ${root}: fetch it there (git fetch origin ${commit}), or give a checkout that has it.`);
  }
  return found.stdout.trim();
}
