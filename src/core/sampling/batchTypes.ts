import type { AgentEvent } from '../agent/agentEvents.js';
import type { ExitReason, Message, Usage } from '../types.js';
import type { Diversity } from '../worktree/diversity.js';
import type { Isolation } from '../worktree/isolation.js';
import type { CheckoutProgress } from '../worktree/sharedCheckout.js';
import type { Snapshot } from '../worktree/snapshot.js';

/** One rollout's result: its patch against the snapshot and how it got there. */
export interface Candidate {
  /** `r0`, `r1`, ... in rollout order; stable across ranking, display and recording. */
  id: string;
  patch: string;
  changedFiles: string[];
  exitReason: ExitReason;
  /** The finish tool's result, when the rollout submitted. */
  result?: string;
  /** Why the rollout stopped, in one line, when it did not submit. */
  message?: string;
  /** With `limits_exceeded`: the batch's shared budget stopped it (or kept it from starting), not its own limits. */
  batchBudget?: true;
  steps: number;
  usage: Usage;
  wallMs: number;
  model: string;
  temperature?: number;
  seed?: number;
  trajectoryFile?: string;
  messages: Message[];
}

/** Budgets over the whole batch; a rollout's own limits are in its AgentConfig. */
export interface BatchBudget {
  costUsd?: number;
  tokens?: number;
  wallTimeMs?: number;
}

/** What a batch produced. */
export interface BatchResult {
  batchId: string;
  snapshot: Snapshot;
  /** How the rollouts were isolated (overlays or worktrees) and why. */
  isolation: Isolation;
  candidates: Candidate[];
  diversity: Diversity;
  usage: Usage;
  wallMs: number;
  /** True when the batch was cancelled or stopped by a batch budget before every rollout finished. */
  stopped: boolean;
}

/** Events of a batch: its own state changes plus every rollout's agent events. */
export type BatchEvent =
  | { type: 'batch_start'; batchId: string; samples: number; concurrency: number }
  | { type: 'isolation'; kind: Isolation['kind']; reason: string }
  | { type: 'pruned'; batches: number }
  | ({ type: 'checkout_progress' } & CheckoutProgress)
  | { type: 'snapshot'; commit: string }
  | { type: 'worktrees_ready'; paths: string[] }
  | { type: 'rollout_start'; runId: string; worktree: string }
  | AgentEvent
  | { type: 'rollout_end'; candidate: Candidate }
  | { type: 'cleanup' }
  | { type: 'batch_end'; result: BatchResult };
