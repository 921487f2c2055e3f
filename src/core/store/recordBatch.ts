/** Records a finished best-of-N batch as one task: every candidate with its trajectory, patch and signals. */
import type { AgentConfig } from '../agent/config.js';
import type { BatchResult, Candidate } from '../sampling/batchTypes.js';
import { defaultTools } from '../tools/defaultTools.js';
import type { ToolSpec } from '../types.js';
import type { CandidateSignals, Ranking } from '../verify/signalTypes.js';
import type { PreferenceStore } from './preferenceStore.js';
import { repoIdentity } from './repoIdentity.js';
import type { RepoIdentity, StoredCandidate, TaskInput, TaskStatus } from './storeTypes.js';

/** A batch to record: its facts, and its candidates each with the signals measured for it (if any). */
export type RecordedBatch = Omit<BatchResult, 'candidates'> & { candidates: readonly (Candidate & { signals?: CandidateSignals['signals'] })[] };

/** What a batch result does not carry itself. */
export interface RecordBatchOptions {
  issue: string;
  config: AgentConfig;
  ranking?: Ranking;
  /** How the run ended; cancelled and failed runs never become training data. Default `complete`. */
  status?: TaskStatus;
  /** Defaults to the identity of the snapshot's repository (origin URL and HEAD). */
  repo?: RepoIdentity;
  /** The tools the rollouts were offered; defaults to the default four. */
  tools?: readonly ToolSpec[];
}

/** Appends `batch` to `store` as a task record and returns the task id that decisions will point to. */
export async function recordBatch(store: PreferenceStore, batch: RecordedBatch, options: RecordBatchOptions): Promise<string> {
  const repo = options.repo ?? (store.enabled ? await identityOf(batch.snapshot) : { remoteUrl: null, head: batch.snapshot.baseHead });
  // The repository's .env values are redacted even when the store was opened without a repository root.
  return store.appendTask(taskInput(batch, { ...options, repo }), { repoRoot: batch.snapshot.root });
}

// The task record's content for a batch, before redaction.
function taskInput(batch: RecordedBatch, options: RecordBatchOptions & { repo: RepoIdentity }): TaskInput {
  const candidates: StoredCandidate[] = batch.candidates.map((c) => ({
    id: c.id, patch: c.patch, changedFiles: c.changedFiles, exitReason: c.exitReason,
    ...(c.result === undefined ? {} : { result: c.result }), ...(c.message === undefined ? {} : { message: c.message }), ...(c.batchBudget ? { batchBudget: true as const } : {}),
    steps: c.steps, usage: c.usage, wallMs: c.wallMs, model: c.model,
    ...(c.temperature === undefined ? {} : { temperature: c.temperature }), ...(c.seed === undefined ? {} : { seed: c.seed }),
    messages: c.messages, signals: c.signals ?? {},
  }));
  return {
    issue: options.issue,
    repo: options.repo,
    snapshot: { commit: batch.snapshot.commit, baseHead: batch.snapshot.baseHead },
    batchId: batch.batchId,
    config: options.config,
    tools: [...(options.tools ?? defaultTools.map((t) => t.spec))],
    candidates,
    ...(options.ranking ? { ranking: options.ranking } : {}),
    status: options.status ?? 'complete',
    diversity: batch.diversity,
    usage: batch.usage,
  };
}

// HEAD comes from the snapshot: the user may have committed since the batch started.
async function identityOf(snapshot: RecordedBatch['snapshot']): Promise<RepoIdentity> {
  try {
    const { remoteUrl, name } = await repoIdentity(snapshot.root);
    return { remoteUrl, head: snapshot.baseHead, name };
  } catch {
    // The repository may be gone by the time the batch is recorded; the snapshot still identifies the code.
    return { remoteUrl: null, head: snapshot.baseHead };
  }
}
