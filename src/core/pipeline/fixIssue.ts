import { refuseIssueTooLarge } from '../agent/runAgent.js';
import { isAbort } from '../errors.js';
import type { Emitter } from '../events.js';
import { createModelFactory } from '../llm/createModel.js';
import type { BatchEvent, BatchResult, Candidate } from '../sampling/batchTypes.js';
import { runBatch } from '../sampling/runBatch.js';
import type { Settings } from '../settings/settings.js';
import { PreferenceStore } from '../store/preferenceStore.js';
import { recordBatch } from '../store/recordBatch.js';
import type { TaskStatus } from '../store/storeTypes.js';
import type { Model, ProcessRunner, Usage } from '../types.js';
import { sumUsage } from '../usage.js';
import { rankCandidates, type RankedCandidate } from '../verify/rankCandidates.js';
import type { Ranking, SignalName } from '../verify/signalTypes.js';
import { BUILT_IN, verifyCandidates } from '../verify/verifyCandidates.js';
import { batchOutcome, verifierNotes, type BatchOutcome } from './batchOutcome.js';
import { agentConfigFrom, containmentFrom, endpointFrom, selectorFrom, verifierFactory } from './fromSettings.js';

/** Events of the whole job: the batch's, then verification and ranking. */
export type FixEvent = BatchEvent
  /** `signals`: what this verification measures (the quick ones, plus the verifiers' that run). */
  | { type: 'verify_start'; candidates: number; signals: SignalName[]; quickOnly: boolean } | { type: 'ranked'; ranking: Ranking; outcome: BatchOutcome; taskId?: string };

/** What a front end supplies besides the settings: the job's inputs and the places and people around it. */
export interface FixHost {
  repoDir: string;
  issue: string;
  /** Where the rollouts' trajectories are written. */
  outDir: string;
  /** The preference store's folder: the setting's, else the front end's default. */
  storeDir: string;
  /** The key of the agent's endpoint (and of the judge's); never a setting. */
  apiKey?: string;
  /** The rollouts' model instead of the configured endpoint: recorded scripts, or a test's own models. */
  model?: { kind: 'scripts'; files: string[] } | ((index: number) => Model);
  /** The local verifier's model when the setting names none. */
  bundledLocalModel?: string;
  /** Folders the agent's commands must not see, besides the store and `outDir`. */
  hiddenPaths?: string[];
  /** Consent to run unsandboxed that the front end obtained itself (the extension asks once per workspace). */
  consent?: boolean;
  onWarning?: (message: string) => void;
  events?: Emitter<FixEvent>;
  signal?: AbortSignal;
  /** Runs every command instead of a contained runner (tests of the core). */
  runner?: ProcessRunner;
  /** Where worktrees go; default: under the system's temp folder. */
  worktreeBaseDir?: string;
}

/** One candidate of the job: the rollout's result joined with its signals, rank and the selector's verdict. */
export type FixCandidate = RankedCandidate<Candidate>;

/** The job's one result record; the store, the panel, the CLI's table and result.json all read it. */
export interface FixReport {
  /** The batch's own facts: snapshot, diversity, usage, time. Its candidates are `candidates`. */
  batch: Omit<BatchResult, 'candidates'>;
  /** Best first. */
  candidates: FixCandidate[];
  ranking: Ranking;
  /** Ready, no fit candidate, failed or cancelled: what every front end says at the end. */
  outcome: BatchOutcome;
  /** How the run ended; only a complete run's decisions become training data (store/decisions.ts). */
  status: TaskStatus;
  /** What the verifiers' model calls cost (the judge's), on top of the rollouts' `batch.usage`. */
  verifierUsage: Usage;
  /** The recorded task, when recording is on. */
  taskId?: string;
}

/**
 * The main job, from one settings object: N rollouts in isolated workspaces, every candidate verified against the
 * snapshot, ranked by the selector, and the whole task recorded as preference data. The model client, the
 * containment and the verifiers are all built here from the settings. After a cancel (during the rollouts or
 * during verification) only the quick static signals run (no tests, no models), so what was produced is still
 * ranked and recorded, and nothing is recommended.
 */
export async function fixIssue(settings: Settings, host: FixHost): Promise<FixReport> {
  const { events } = host;
  const secrets = host.apiKey ? [host.apiKey] : [];
  const containment = containmentFrom(settings, { consent: host.consent, secrets, onWarning: host.onWarning,
    hiddenPaths: [...(host.hiddenPaths ?? []), host.storeDir, host.outDir] });
  const endpoint = host.model ? undefined : endpointFrom(settings, host.apiKey);
  const verifiers = verifierFactory(settings, { apiKey: host.apiKey, bundledLocalModel: host.bundledLocalModel, baseDir: host.worktreeBaseDir, agentEndpoint: endpoint });
  const config = agentConfigFrom(settings);
  refuseIssueTooLarge(host.issue, config);
  const model = typeof host.model === 'function' ? host.model : await createModelFactory(host.model ?? endpoint!);
  const store = PreferenceStore.open(host.storeDir, { enabled: settings.recordDecisions, secrets, repoRoot: host.repoDir });
  const { candidates: made, ...batch } = await runBatch({
    repoDir: host.repoDir, issue: host.issue, samples: settings.samples, concurrency: settings.concurrency || undefined, seed: settings.seed, isolation: settings.isolation,
    model, config, runner: host.runner, containment, outDir: host.outDir, signal: host.signal, worktreeBaseDir: host.worktreeBaseDir,
    budget: { costUsd: settings.batchCostUsd || undefined, tokens: settings.batchTokens || undefined }, events: events as Emitter<BatchEvent> | undefined,
  });
  // Test runs are contained like the rollouts' commands, in workspaces isolated the way the rollouts' were;
  // they may write only in this verification's own workspaces. After a cancel (before verification or
  // during it) only the quick static signals run: what was produced is still ranked and recorded.
  const used: ReturnType<typeof verifiers> = [];
  const verify = (quickOnly: boolean) => {
    const these = verifiers({ issue: host.issue, snapshot: batch.snapshot, runner: host.runner, containment, isolation: batch.isolation.kind, quickOnly });
    used.push(...these);
    events?.emit({ type: 'verify_start', candidates: made.length, signals: [...BUILT_IN, ...these.flatMap((v) => v.signals)], quickOnly });
    return verifyCandidates(made, {
      verifiers: these,
      checkout: { root: batch.snapshot.root, snapshotCommit: batch.snapshot.commit }, signal: quickOnly ? undefined : host.signal,
      skipped: quickOnly ? 'not run: the run was cancelled' : undefined,
    });
  };
  let cancelled = host.signal?.aborted === true;
  const signals = await verify(cancelled).catch((error: unknown) => {
    if (!isAbort(error) || host.signal?.aborted !== true) throw error;
    cancelled = true;
    return verify(true);
  });
  const ranked = rankCandidates(made, signals, selectorFrom(settings));
  // A cancelled run ran no tests and asked no model: its candidates are ranked, but none is recommended on
  // that little evidence (the outcome says which finished, untested).
  const ranking = cancelled ? { ...ranked.ranking, recommended: undefined } : ranked.ranking;
  const candidates = cancelled ? ranked.candidates.map((c) => ({ ...c, recommended: false })) : ranked.candidates;
  const notes = verifierNotes(candidates);
  const outcome = { ...batchOutcome(candidates, ranking, cancelled), ...(notes.length ? { notes } : {}) };
  const status: TaskStatus = cancelled ? 'cancelled' : outcome.kind === 'failed' ? 'failed' : 'complete';
  const report: FixReport = { batch, candidates, ranking, outcome, status, verifierUsage: sumUsage(used.map((v) => v.spent?.())) };
  // Recorded in rollout order (r0, r1, ...); verifyCandidates gives the signals in that same order.
  const recorded = { ...batch, candidates: made.map((c, k) => ({ ...c, signals: signals[k].signals })) };
  // A store that cannot be written (a full disk, a folder gone) costs the record, never the run: its
  // candidates are still shown and can be applied, and the outcome says why nothing was recorded.
  try {
    report.taskId = store.enabled ? await recordBatch(store, recorded, { issue: host.issue, config, ranking, status }) : undefined;
  } catch (error) {
    if (isAbort(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    report.outcome = { ...outcome, notes: [...(outcome.notes ?? []), `The run is not recorded: the preference store in ${host.storeDir} could not be written (${why}); decisions about its candidates are not recorded either.`] };
  }
  events?.emit({ type: 'ranked', ranking, outcome: report.outcome, taskId: report.taskId });
  return report;
}

