/** Ranks candidates made elsewhere, one issue after another or several at once, each in its own verification. */
import { AgentError, ErrorReason, isAbort, throwIfAborted } from '../errors.js';
import { Limiter } from '../limiter.js';
import { createProcessRunner } from '../sandbox/createProcessRunner.js';
import type { Settings } from '../settings/settings.js';
import type { ProcessRunner } from '../types.js';
import type { ContainmentPolicy } from '../sandbox/sandboxTypes.js';
import { rankCandidates } from '../verify/rankCandidates.js';
import type { CandidateSignals, SignalName } from '../verify/signalTypes.js';
import type { VerifiableCandidate } from '../verify/verifiable.js';
import { verifyCandidates } from '../verify/verifyCandidates.js';
import { gitResult } from '../worktree/git.js';
import { locateRepository } from '../worktree/snapshot.js';
import { defaultBaseDir, pruneStale } from '../worktree/worktrees.js';
import { verifierNotes } from './batchOutcome.js';
import { containmentFrom, selectorFrom, verifierFactory } from './fromSettings.js';
import { shareSignal } from '../concurrency.js';

/** One issue with its candidates; a line that could not be read arrives as `invalid` with the reason. */
export type RankInput =
  | { kind: 'instance'; instanceId: string; issue: string; baseCommit?: string; testCommand?: string; candidates: VerifiableCandidate[] }
  | { kind: 'invalid'; line: number; instanceId?: string; error: string };

/** What `rankInstances` reports per input, in the order the inputs finish. */
export type RankRecord =
  | {
      instance_id: string; status: 'ranked'; mode: string; ranking: string[]; explanations: Record<string, string>;
      signals: Record<string, CandidateSignals['signals']>; duration_ms: number;
      /** What to say once about the issue, e.g. that the judge scored no candidate, and why (`verifierNotes`). */
      notes?: string[];
    }
  | { instance_id?: string; line?: number; status: 'error'; reason: string; error: string; duration_ms?: number };

/** Options of `rankInstances`: the settings (verification, containment), and what is particular to ranking. */
export interface RankOptions {
  settings: Settings;
  /** A checkout of the repository: with it the apply, syntax and test signals run. */
  repoDir?: string;
  /** Signals kept in the output; the test signals run only when one of them is kept. Default: all. */
  keep?: ReadonlySet<SignalName>;
  /** Issues verified at once; default 1. Test runs over all issues stay within the test concurrency setting. */
  concurrency?: number;
  /** The judge's key. */
  apiKey?: string;
  /** Folders the test runs must not see (the output file's). */
  hiddenPaths?: string[];
  onWarning?: (message: string) => void;
  /** Runs the tests instead of a contained runner (tests of this module). */
  runner?: ProcessRunner;
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
  shareSignal(options.signal);
  const root = options.repoDir === undefined ? undefined : (await locateRepository(options.repoDir, { signal: options.signal })).root;
  const { settings } = options;
  const wantsTests = settings.tests && root !== undefined && (!options.keep || options.keep.has('regression') || options.keep.has('reproduction'));
  const limiter = new Limiter(settings.testConcurrency);
  const verifiers = verifierFactory({ ...settings, localVerifier: settings.localVerifier && (!options.keep || options.keep.has('local')) },
    { apiKey: options.apiKey, baseDir, limiter });
  const containment = containmentFrom(settings, { hiddenPaths: options.hiddenPaths, secrets: options.apiKey ? [options.apiKey] : [], onWarning: options.onWarning });
  if (wantsTests && !options.runner) {
    // A policy that cannot run here (no sandbox, no consent) fails the whole call now, before any issue runs;
    // each verification then contains its test runs to its own workspaces, like the rollouts of `run`.
    await (await createProcessRunner({ ...containment, sandbox: { ...containment.sandbox, writable: [baseDir] } })).dispose();
  }
  if (root !== undefined) await pruneStale(root, { baseDir });
  const counts = { ranked: 0, failed: 0 };
  const iterator = inputs[Symbol.asyncIterator]();
  const worker = async (): Promise<void> => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      throwIfAborted(options.signal);
      const record = await rankOne(next.value, { ...options, root, wantsTests, verifiers, containment });
      counts[record.status === 'ranked' ? 'ranked' : 'failed']++;
      await onRecord(record);
    }
  };
  // Every worker ends (its workspaces removed) before a failure or a cancel is passed on.
  const ended = await Promise.allSettled(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  const failure = ended.find((e) => e.status === 'rejected');
  if (failure) throw failure.reason;
  return counts;
}

type OneOptions = RankOptions & { root?: string; wantsTests: boolean; verifiers: ReturnType<typeof verifierFactory>; containment: ContainmentPolicy };

async function rankOne(input: RankInput, o: OneOptions): Promise<RankRecord> {
  if (input.kind === 'invalid') {
    return { ...(input.instanceId ? { instance_id: input.instanceId } : {}), line: input.line, status: 'error', reason: 'invalid_input', error: input.error };
  }
  const started = Date.now();
  try {
    const commit = o.root === undefined ? undefined : await resolveCommit(o.root, input.baseCommit ?? 'HEAD', o.signal);
    const checkout = o.root !== undefined && commit !== undefined ? { root: o.root, snapshotCommit: commit } : undefined;
    const snapshot = checkout && o.wantsTests ? { root: checkout.root, commit: checkout.snapshotCommit, baseHead: checkout.snapshotCommit, ref: '' } : undefined;
    const verifiers = o.verifiers({ issue: input.issue, snapshot, testCommand: input.testCommand, runner: o.runner, containment: o.containment });
    const signals = await verifyCandidates(input.candidates, { checkout, verifiers, signal: o.signal });
    if (o.keep) for (const s of signals) for (const name of Object.keys(s.signals) as SignalName[]) if (!o.keep.has(name)) delete s.signals[name];
    const { ranking, candidates } = rankCandidates(input.candidates, signals, selectorFrom(o.settings));
    const notes = verifierNotes(candidates);
    return {
      instance_id: input.instanceId, status: 'ranked', mode: ranking.mode, ranking: ranking.order, explanations: ranking.explanations,
      signals: Object.fromEntries(candidates.map((c) => [c.id, c.signals])), duration_ms: Date.now() - started, ...(notes.length ? { notes } : {}),
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
