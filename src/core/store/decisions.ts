/**
 * What a recorded decision means for the training data. A decision is what the user did, not a guess at
 * what they thought: only the actions that say "this one" or "not this one" become preferences.
 *
 * | decision | recorded when | in training data |
 * |---|---|---|
 * | applied | Apply (or Replace, for the candidate put in) wrote the candidate to the working tree | accepted |
 * | kept | an applied candidate's change was committed as it was | accepted |
 * | rejected | Reject (on an applied candidate: after its change was taken out) | rejected |
 * | replaced | Replace took the candidate out to apply another (`by`) | neither: trying another is a comparison |
 * | undone | Undo Apply took the candidate out again | neither |
 * | reverted | the user took the change back outside the panel (discard, checkout, undo and save) | neither |
 *
 * The latest decision about a candidate stands. Runs that were cancelled or failed (TaskInput.status) are
 * kept in the store, marked, and never become training data, whatever was decided about their candidates.
 * Neither does a candidate whose rollout was stopped from outside (the model server failed, the rollout
 * crashed, the user cancelled it, the batch's shared budget ran out) in a complete run: its trajectory ends
 * where an outage cut it, not where the model chose to, and rejecting it would teach the model to avoid what
 * it had not yet finished.
 */
import type { ExitReason } from '../types.js';
import type { DecisionKind, TaskStatus } from './storeTypes.js';

/** A candidate's label from its latest decision: accepted, rejected, or no preference at all. */
export type DecisionMeaning = 'accepted' | 'rejected' | 'none';

/** The meaning of each decision (the table above). */
export const DECISION_MEANING: Readonly<Record<DecisionKind, DecisionMeaning>> = {
  applied: 'accepted', kept: 'accepted', rejected: 'rejected', replaced: 'none', undone: 'none', reverted: 'none',
};

/** Whether a run that ended so may become training data: only complete runs (and records from before the status). */
export function trainable(status: TaskStatus | undefined): boolean {
  return status === undefined || status === 'complete';
}

/** Why no decision about a run that ended so becomes training data, or undefined when it may (see `trainable`). */
export function untrainableRun(status: TaskStatus | undefined): string | undefined {
  if (status === 'cancelled') return 'the run was cancelled, and a cancelled run never becomes training data';
  if (status === 'failed') return 'no rollout of the run produced a candidate, and a failed run never becomes training data';
  return undefined;
}

// Rollouts that ended for a reason outside the model: an outage, a crash, a cancel.
const STOPPED_FROM_OUTSIDE: ReadonlySet<ExitReason> = new Set(['model_error', 'crashed', 'cancelled']);

/**
 * Why decisions about a candidate that ended so never become training data, or undefined when they may.
 * A malformed reply (format_error) and a rollout over its own limits are the model's own doing: they may.
 * The batch's shared budget is not: it stops a rollout for what the others spent.
 */
export function untrainableExit({ exitReason, batchBudget }: { exitReason?: ExitReason; batchBudget?: boolean }): string | undefined {
  if (batchBudget) return 'the batch\'s shared budget stopped its rollout, not its own limits';
  if (exitReason === undefined || !STOPPED_FROM_OUTSIDE.has(exitReason)) return undefined;
  return exitReason === 'cancelled' ? 'its rollout was cancelled before it finished' : 'its rollout failed (a model-server error or a crash), not the model\'s choice';
}
