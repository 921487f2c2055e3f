import * as vscode from 'vscode';
import { AgentError, ErrorReason } from '../core/errors.js';
import type { DecisionKind } from '../core/store/storeTypes.js';
import { planSwitchOrGitApply, switchWithGitApply, type SwitchRequest } from '../core/worktree/treeSwitch.js';
import type { RevertWatcher } from './revertWatcher.js';
import type { RunRecord } from './runRecord.js';
import { switchWorkingTree } from './switchWorkingTree.js';

/**
 * Records one decision about a candidate of a run (the card, run.json and the preference store); resolves with
 * why the store does not get it, when it does not (recording off, the run's task not in the store).
 */
export type RecordDecision = (run: RunRecord, candidateId: string, decision: DecisionKind, by?: string) => Promise<string | undefined>;

/** Skips the questions (tests and scripted use): `confirm: true` answers yes to each. */
export interface ActionOptions {
  confirm?: boolean;
}

/**
 * Apply, Replace, Undo Apply and Reject of one run's candidates, each recorded as what it means
 * (core/store/decisions.ts): trying another candidate replaces the first, it does not reject it; Reject on an
 * applied candidate takes its change out first. At most one candidate of a run is applied at a time.
 */
export class CandidateActions {
  constructor(private readonly reverts: RevertWatcher, private readonly record: RecordDecision, private readonly log: vscode.LogOutputChannel) {}

  /** The run's candidate that is in the working tree now, if any. */
  applied(run: RunRecord): string | undefined {
    return run.review.candidates.find((c) => c.decision === 'applied')?.id;
  }

  /** Apply, or Replace when another candidate of the run is applied; resolves true when the tree changed. */
  async apply(run: RunRecord, id: string, options: ActionOptions = {}): Promise<boolean> {
    const card = run.review.candidates.find((c) => c.id === id);
    const patch = run.patches.get(id) ?? '';
    if (!card) throw new AgentError(ErrorReason.InvalidArgument, `This run has no candidate ${id}.`);
    if (patch.trim() === '') return this.tell(`${id} changes nothing: there is nothing to apply.`);
    if (card.decision === 'applied') return this.tell(`${id} is already applied. Undo Apply takes it out.`);
    if (card.unfit && !options.confirm && !(await ask(`${id} is not worth applying (${card.unfit}). Apply it anyway?`, 'Apply Anyway'))) return false;
    const current = this.applied(run);
    if (current && !options.confirm && !(await ask(`Replace ${current} with ${id}?`, 'Replace',
      `${current}'s change is taken out of your working tree (its files go back to how they were in the snapshot), then ${id} is applied: one undo step.`))) return false;
    const label = current ? `EntroPO: replace ${current} with ${id}` : `EntroPO: apply ${id}`;
    // Watched for coming back if the panel took it out before: this write is no Undo of that.
    this.reverts.unwatch(run, id);
    await this.switch(run, current, { remove: current ? run.patches.get(current) : undefined, add: patch }, label);
    // Watched before the records are written: the candidate taken out is checked for coming back meanwhile,
    // and one with the same files must not look like it.
    this.reverts.watch(run, id);
    if (current) await this.record(run, current, 'replaced', id);
    await this.record(run, id, 'applied');
    this.log.info(current ? `replaced ${current} with ${id}` : `applied ${id}`);
    void vscode.window.showInformationMessage(`EntroPO: ${current ? `replaced ${current} with ${id}` : `applied ${id}`}. The change is in Source Control, uncommitted.`);
    return true;
  }

  /** Undo Apply: the applied candidate's files go back to the snapshot's. */
  async undo(run: RunRecord, id: string): Promise<boolean> {
    if (this.applied(run) !== id) return this.tell(`${id} is not applied.`);
    await this.switch(run, id, { remove: run.patches.get(id) }, `EntroPO: undo ${id}`);
    await this.record(run, id, 'undone');
    this.log.info(`undid ${id}`);
    void vscode.window.showInformationMessage(`EntroPO: took ${id} out of your working tree.`);
    return true;
  }

  /**
   * Reject: recorded as a rejection; an applied candidate's change is taken out first (after asking). When
   * it cannot be taken out (the user edited its files since), the rejection is still what the user said: it is
   * recorded, and the change stays in the working tree, with why.
   */
  async reject(run: RunRecord, id: string, options: ActionOptions = {}): Promise<boolean> {
    const card = run.review.candidates.find((c) => c.id === id);
    if (!card) throw new AgentError(ErrorReason.InvalidArgument, `This run has no candidate ${id}.`);
    if (card.untrainable && this.applied(run) !== id) return this.tell(`${id} is not for training: ${card.untrainable}. There is nothing of the model's to reject.`);
    let stays: string | undefined;
    if (this.applied(run) === id) {
      if (!options.confirm && !(await ask(`Reject ${id}? Its change is taken out of your working tree.`, 'Reject and Remove'))) return false;
      try {
        await this.switch(run, id, { remove: run.patches.get(id) }, `EntroPO: reject ${id}`);
      } catch (error) {
        if (!(error instanceof AgentError) || error.reason !== ErrorReason.PatchDoesNotApply) throw error;
        stays = error.message;
        this.reverts.unwatch(run, id);
      }
    } else {
      // A candidate taken back outside the panel is watched for coming back; rejected, it no longer is.
      this.reverts.unwatch(run, id);
    }
    const unrecorded = await this.record(run, id, 'rejected');
    const said = unrecorded ? `${id} is rejected, but not recorded: ${unrecorded}.` : `recorded that ${id} is rejected.`;
    if (stays) void vscode.window.showWarningMessage(`EntroPO: ${said} ${stays}`);
    else void vscode.window.showInformationMessage(`EntroPO: ${said}`);
    this.log.info(`rejected ${id}${stays ? ' (its change stays in the working tree)' : ''}${unrecorded ? ` (not recorded: ${unrecorded})` : ''}`);
    return true;
  }

  // Writes the switch; the candidate taken out is not watched meanwhile, so that our own write is no revert.
  private async switch(run: RunRecord, out: string | undefined, request: SwitchRequest, label: string): Promise<void> {
    if (out) this.reverts.unwatch(run, out);
    try {
      // A binary file, a mode change or a link: git writes it (no undo step in the editor then).
      const plan = await planSwitchOrGitApply(run.root, run.snapshotCommit, request);
      if (plan) await switchWorkingTree(run.root, plan, label, out);
      else await switchWithGitApply(run.root, run.snapshotCommit, request, out, (message) => {
        this.log.warn(message);
        void vscode.window.showWarningMessage(`EntroPO: ${message}`);
      });
    } catch (error) {
      if (out) this.reverts.watch(run, out);
      throw error;
    }
    // An Undo in the editor puts it back: watched for that (revertWatcher.ts).
    if (out) this.reverts.takenOut(run, out);
  }

  private tell(message: string): false {
    void vscode.window.showInformationMessage(`EntroPO: ${message}`);
    return false;
  }
}

async function ask(question: string, yes: string, detail?: string): Promise<boolean> {
  return (await vscode.window.showWarningMessage(`EntroPO: ${question}`, { modal: true, ...(detail ? { detail } : {}) }, yes)) === yes;
}
