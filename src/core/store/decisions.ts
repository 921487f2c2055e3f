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
 */
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
