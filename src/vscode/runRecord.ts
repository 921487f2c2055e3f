import type { ReviewState } from '../protocol/messages.js';
import type { RunFiles } from './candidateDocuments.js';

/** A finished run, kept so that its candidates can be diffed, applied and rejected (also after a reload). */
export interface RunRecord extends RunFiles {
  runId: string;
  taskId?: string;
  storeDir: string;
  trajectories: Record<string, string>;
  review: ReviewState;
}
