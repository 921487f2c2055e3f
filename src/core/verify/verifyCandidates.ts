import { AgentError, ErrorReason, isAbort } from '../errors.js';
import { patchedTree, readBlob, trackedLinks } from '../worktree/candidateTree.js';
import { changedFiles } from '../worktree/patch.js';
import { agreementSignals } from './agreement.js';
import { finishedSignal } from './finished.js';
import { SIGNAL_NAMES, type CandidateSignals, type SignalName, type SignalValue } from './signalTypes.js';
import { syntaxSignal } from './syntax.js';
import { escapingSymlinks, validitySignal } from './validity.js';
import { unavailable, type VerifiableCandidate } from './verifiable.js';
import type { SignalValues, Verifier } from './verifier.js';
import { shareSignal } from '../concurrency.js';

/** What verification can use; a signal that no verifier measures is unavailable, with the reason. */
export interface VerifyOptions {
  /** The repository and the snapshot the candidates were made from: enables apply and syntax checks. */
  checkout?: { root: string; snapshotCommit: string };
  /** The judge, the local model, the tests: whichever the settings turned on. */
  verifiers?: readonly Verifier[];
  /** Why the verifiers did not run at all (a cancelled run); said for each of their signals. */
  skipped?: string;
  signal?: AbortSignal;
}

/** The signals computed here for every candidate; a verifier measures each of the others. */
export const BUILT_IN: readonly SignalName[] = ['finished', 'validity', 'syntax', 'agreement'];

// Why a signal is missing when no verifier measures it.
function missingReason(name: SignalName, hasCheckout: boolean): string {
  if (name === 'judge') return 'no judge configured';
  if (name === 'local') return 'no local verifier configured';
  if (name === 'regression' || name === 'reproduction') return hasCheckout ? 'tests not enabled' : 'needs a checkout of the repository';
  return 'not turned on';
}

/** Computes every available signal for every candidate, one entry per candidate in their order (never completion order). */
export async function verifyCandidates(candidates: readonly VerifiableCandidate[], options: VerifyOptions): Promise<CandidateSignals[]> {
  const { checkout, signal } = options;
  shareSignal(signal);
  // A patch's new link is resolved through the links the repository already has (`q -> .` then `p -> q/..`).
  const tracked = checkout && candidates.some((c) => / 120000$/m.test(c.patch)) ? await trackedLinks(checkout.root, checkout.snapshotCommit, signal) : undefined;
  const perCandidate = await Promise.all(candidates.map(async (c) => {
    const signals: CandidateSignals['signals'] = { finished: finishedSignal(c) };
    const applies = checkout ? await appliesToSnapshot(checkout, c, signal) : undefined;
    signals.validity = validitySignal(c, applies?.tree ? true : applies?.error, tracked);
    signals.syntax = applies?.tree ? await syntaxSignal(await fileChanges(checkout!, applies.tree, c.patch, signal))
      : unavailable(checkout ? 'the patch does not apply' : 'needs a checkout of the repository');
    return { candidateId: c.id, signals };
  }));
  const byId = new Map(perCandidate.map((p) => [p.candidateId, p.signals]));
  const merge = (name: SignalName, values: Map<string, SignalValue> | undefined, missing: string) => {
    for (const c of candidates) byId.get(c.id)![name] = values?.get(c.id) ?? unavailable(missing);
  };
  merge('agreement', await agreementSignals(candidates), 'not computed');
  // A checkout holding a link to / would have the test runner crawl the whole machine: such patches are invalid anyway.
  const safe = candidates.filter((c) => escapingSymlinks(c.patch, tracked).length === 0);
  const verifiers = (options.verifiers ?? []).filter((v) => !v.runsCode || checkout);
  const results = await Promise.all(verifiers.map((v) => guarded(v, v.runsCode ? safe : candidates, signal)));
  const names = new Set(verifiers.flatMap((v) => v.signals));
  for (const name of SIGNAL_NAMES) {
    if (!BUILT_IN.includes(name) && !names.has(name)) merge(name, undefined, options.skipped ?? missingReason(name, checkout !== undefined));
  }
  verifiers.forEach((v, i) => {
    for (const name of v.signals) merge(name, results[i].values[name], results[i].error ?? 'not measured');
  });
  for (const c of candidates) {
    if (safe.includes(c)) continue;
    const own = byId.get(c.id)!;
    for (const v of verifiers) {
      if (v.runsCode) for (const name of v.signals) own[name] = unavailable('not run: the patch adds symbolic links that point outside the repository');
    }
  }
  return perCandidate;
}

type Provided = { values: SignalValues; error?: string };

// A verifier that fails makes its signals unavailable with the reason; it never fails the whole verification.
async function guarded(verifier: Verifier, candidates: readonly VerifiableCandidate[], signal?: AbortSignal): Promise<Provided> {
  try {
    return { values: await verifier.verify(candidates, signal) };
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
