import { AgentError, ErrorReason, isAbort } from '../errors.js';
import { patchedTree, readBlob } from '../worktree/candidateTree.js';
import { changedFiles } from '../worktree/patch.js';
import { agreementSignals } from './agreement.js';
import { finishedSignal } from './finished.js';
import { judgeSignals, type JudgeSignalOptions } from './judge.js';
import type { CandidateSignals, SignalName, SignalValue } from './signalTypes.js';
import { syntaxSignal } from './syntax.js';
import { escapingSymlinks, validitySignal } from './validity.js';
import { unavailable, type VerifiableCandidate } from './verifiable.js';

/** Signals computed for a whole set of candidates at once, keyed by candidate id. */
export type SignalProvider = (candidates: readonly VerifiableCandidate[], signal?: AbortSignal) => Promise<Partial<Record<SignalName, Map<string, SignalValue>>>>;

/** What verification can use; each part left out makes its signals unavailable, with the reason. */
export interface VerifyOptions {
  issue: string;
  /** The repository and the snapshot the candidates were made from: enables apply and syntax checks. */
  checkout?: { root: string; snapshotCommit: string };
  /** The LLM judge (signal 7a). */
  judge?: Omit<JudgeSignalOptions, 'issue' | 'signal'>;
  /** The local learned verifier (signal 7b). */
  local?: SignalProvider;
  /** Regression and reproduction tests (signals 4 and 5); they need the checkout. */
  tests?: SignalProvider;
  signal?: AbortSignal;
}

/** Computes every available signal for every candidate; results follow candidate ids, not completion order. */
export async function verifyCandidates(candidates: readonly VerifiableCandidate[], options: VerifyOptions): Promise<CandidateSignals[]> {
  const { checkout, signal } = options;
  const perCandidate = await Promise.all(candidates.map(async (c) => {
    const signals: CandidateSignals['signals'] = { finished: finishedSignal(c) };
    const applies = checkout ? await appliesToSnapshot(checkout, c, signal) : undefined;
    signals.validity = validitySignal(c, applies?.tree ? true : applies?.error);
    signals.syntax = applies?.tree ? await syntaxSignal(await fileChanges(checkout!, applies.tree, c.patch, signal))
      : unavailable(checkout ? 'the patch does not apply' : 'needs a checkout of the repository');
    return { candidateId: c.id, signals };
  }));
  const byId = new Map(perCandidate.map((p) => [p.candidateId, p.signals]));
  const merge = (name: SignalName, values: Map<string, SignalValue> | undefined, missing: string) => {
    for (const c of candidates) byId.get(c.id)![name] = values?.get(c.id) ?? unavailable(missing);
  };
  merge('agreement', await agreementSignals(candidates), 'not computed');
  const [judged, local, tests] = await Promise.all([
    options.judge ? judgeSignals(candidates, { ...options.judge, issue: options.issue, signal }) : undefined,
    guarded(options.local, candidates, signal),
    // A checkout holding a link to / would have the test runner crawl the whole machine: such patches are invalid anyway.
    checkout ? guarded(options.tests, candidates.filter((c) => escapingSymlinks(c.patch).length === 0), signal) : undefined,
  ]);
  merge('judge', judged, 'no judge configured');
  merge('local', local?.values.local, local?.error ?? 'no local verifier configured');
  merge('regression', tests?.values.regression, tests?.error ?? (checkout ? 'tests not enabled' : 'needs a checkout of the repository'));
  merge('reproduction', tests?.values.reproduction, tests?.error ?? (checkout ? 'tests not enabled' : 'needs a checkout of the repository'));
  for (const c of candidates) {
    if (!options.tests || escapingSymlinks(c.patch).length === 0) continue;
    const own = byId.get(c.id)!;
    own.regression = own.reproduction = unavailable('not run: the patch adds symbolic links that point outside the repository');
  }
  return perCandidate;
}

type Provided = { values: Partial<Record<SignalName, Map<string, SignalValue>>>; error?: string };

// A provider that fails makes its signals unavailable with the reason; it never fails the whole verification.
async function guarded(provider: SignalProvider | undefined, candidates: readonly VerifiableCandidate[], signal?: AbortSignal): Promise<Provided | undefined> {
  if (!provider) return undefined;
  try {
    return { values: await provider(candidates, signal), error: undefined };
  } catch (error) {
    if (isAbort(error)) throw error;
    return { values: {}, error: `failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

async function appliesToSnapshot(checkout: { root: string; snapshotCommit: string }, c: VerifiableCandidate, signal?: AbortSignal) {
  if (c.patch.trim() === '') return undefined;
  try {
    return { tree: await patchedTree(checkout.root, checkout.snapshotCommit, c.patch, signal) };
  } catch (error) {
    if (error instanceof AgentError && error.reason === ErrorReason.PatchDoesNotApply) return { error: error.message };
    throw error;
  }
}

async function fileChanges(checkout: { root: string; snapshotCommit: string }, tree: string, patch: string, signal?: AbortSignal) {
  return Promise.all(changedFiles(patch).map(async (path) => ({
    path,
    before: await readBlob(checkout.root, checkout.snapshotCommit, path, signal),
    after: await readBlob(checkout.root, tree, path, signal),
  })));
}
