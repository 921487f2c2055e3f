import type { Emitter } from '../events.js';
import { batchOutcome, type BatchOutcome } from './batchOutcome.js';
import type { BatchEvent, BatchResult } from '../sampling/batchTypes.js';
import { runBatch, type RunBatchOptions } from '../sampling/runBatch.js';
import type { PreferenceStore } from '../store/preferenceStore.js';
import { recordBatch } from '../store/recordBatch.js';
import { select, type SelectOptions } from '../verify/select.js';
import type { CandidateSignals, Ranking } from '../verify/signalTypes.js';
import { testSignalProvider, type TestSignalsOptions } from '../verify/execution/testSignals.js';
import { verifyCandidates, type VerifyOptions } from '../verify/verifyCandidates.js';

/** Events of the whole job: the batch's, then verification and ranking. */
export type FixEvent = BatchEvent | { type: 'verify_start'; candidates: number } | { type: 'ranked'; ranking: Ranking; outcome: BatchOutcome; taskId?: string };

/** A best-of-N batch plus how its candidates are verified, ranked and recorded. */
export interface FixIssueOptions extends Omit<RunBatchOptions, 'events'> {
  verify?: Omit<VerifyOptions, 'issue' | 'checkout' | 'signal' | 'tests'>;
  /** Regression and reproduction tests; false turns them off. */
  tests?: Omit<TestSignalsOptions, 'signal'> | false;
  selector?: SelectOptions;
  /** Where the task is recorded; recording off is a store opened with `enabled: false`. */
  store?: PreferenceStore;
  events?: Emitter<FixEvent>;
}

/** The result: candidates, their signals, the ranking, the batch's outcome, and the recorded task's id. */
export interface FixReport {
  batch: BatchResult;
  signals: CandidateSignals[];
  ranking: Ranking;
  /** Ready, no fit candidate, or failed: what every front end says at the end. */
  outcome: BatchOutcome;
  taskId?: string;
}

/**
 * The main job: N rollouts in isolated workspaces, every candidate verified against the snapshot, ranked by the
 * selector, and the whole task recorded as preference data. After a cancel only the quick static signals
 * run (no tests, no models), so what was produced is still ranked and recorded.
 */
export async function fixIssue(options: FixIssueOptions): Promise<FixReport> {
  const { events } = options;
  const batch = await runBatch({ ...options, events: events as Emitter<BatchEvent> | undefined });
  events?.emit({ type: 'verify_start', candidates: batch.candidates.length });
  const cancelled = options.signal?.aborted === true;
  const runTests = !cancelled && options.tests !== false;
  // Test runs are contained like the rollouts' commands, in workspaces isolated the way the rollouts' were;
  // they may write only in this verification's own workspaces.
  const tests = runTests
    ? testSignalProvider(batch.snapshot, { baseDir: options.worktreeBaseDir, runner: options.runner, containment: options.containment,
        isolation: batch.isolation.kind, ...(options.tests || {}) })
    : undefined;
  const signals: CandidateSignals[] = await verifyCandidates(batch.candidates, {
    ...(cancelled ? {} : options.verify), tests, issue: options.issue, signal: cancelled ? undefined : options.signal,
    checkout: { root: batch.snapshot.root, snapshotCommit: batch.snapshot.commit },
  });
  const byId = new Map(batch.candidates.map((c) => [c.id, c]));
  const ranking = select(signals.map((s) => {
    const c = byId.get(s.candidateId);
    return { ...s, steps: c?.steps, exitReason: c?.exitReason, message: c?.message };
  }), options.selector);
  const outcome = batchOutcome(batch.candidates, ranking);
  const taskId = options.store
    ? await recordBatch(options.store, batch, { issue: options.issue, config: options.config, signals, ranking })
    : undefined;
  events?.emit({ type: 'ranked', ranking, outcome, taskId });
  return { batch, signals, ranking, outcome, taskId };
}
