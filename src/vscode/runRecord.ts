import type { DecisionInput, TaskStatus } from '../core/store/storeTypes.js';
import type { ReviewState } from '../protocol/messages.js';
import type { RunFiles } from './candidateDocuments.js';

/** A finished run, kept so that its candidates can be diffed, applied and rejected (also after a reload). */
export interface RunRecord extends RunFiles {
  runId: string;
  taskId?: string;
  storeDir: string;
  trajectories: Record<string, string>;
  /** The folder each rollout worked in, so that the steps show paths relative to the repository. */
  workspaces?: Record<string, string>;
  review: ReviewState;
  /** How the run ended (absent in runs saved before it). */
  status?: TaskStatus;
  /**
   * Decisions the preference store could not take when they were made (a full disk, a folder gone), in the
   * order they were made; written before the run's next decision.
   */
  unrecorded?: Omit<DecisionInput, 'taskId'>[];
}
