import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readTrajectory } from '../core/agent/trajectory.js';
import { AgentError } from '../core/errors.js';
import type { FixReport } from '../core/pipeline/fixIssue.js';
import type { ExportSummary } from '../core/store/exportPreferences.js';
import { needsUnsandboxedConsent } from '../core/sandbox/createProcessRunner.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import type { DecisionKind } from '../core/store/storeTypes.js';
import type { FromWebview, ReviewState, StepView } from '../protocol/messages.js';
import { CandidateActions } from './candidateActions.js';
import { CANDIDATE_SCHEME, CandidateDocuments, candidateOfUri, openDiff } from './candidateDocuments.js';
import { configureModel, API_KEY_SECRET } from './configureModel.js';
import { deleteRecordedData, type DeleteOutcome } from './deleteRecordedData.js';
import { exportPreferenceData } from './exportPreferenceData.js';
import { askFolder, askIssue } from './issueInput.js';
import { ReviewPanel } from './reviewPanel.js';
import { RevertWatcher, type WatchedChange } from './revertWatcher.js';
import { runFix } from './runFix.js';
import type { RunRecord } from './runRecord.js';
import type { Settings } from '../core/settings/settings.js';
import { readSetting, readSettings } from './settings.js';
import type { RunsView } from './runsView.js';
import { toStepView } from './stepViews.js';
import { ModelTrainer, type TrainOutcome } from './trainModel.js';

const LAST_RUN = 'entropo.lastRunFile';
const UNSANDBOXED_CONSENT = 'entropo.unsandboxedConsent';
/** The context key that offers Apply, Reject and Compare in the palette once there are candidates. */
const HAS_CANDIDATES = 'entropo.hasCandidates';

/** Owns the extension's state and implements its commands. */
export class Controller implements vscode.Disposable {
  readonly log = vscode.window.createOutputChannel('EntroPO', { log: true });
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private readonly panel: ReviewPanel;
  private readonly runs = new Map<string, RunRecord>();
  private current: RunRecord | undefined;
  private running: AbortController | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly trainer: ModelTrainer;
  private readonly reverts: RevertWatcher;
  private readonly actions: CandidateActions;

  constructor(private readonly context: vscode.ExtensionContext, private readonly runsView: RunsView) {
    this.panel = new ReviewPanel(context.extensionUri, (m) => void this.onPanelMessage(m));
    this.trainer = new ModelTrainer(context, this.log, () => this.storeDir());
    this.reverts = new RevertWatcher((run, id, what) => this.onWatched(run.runId, id, what), this.log);
    this.actions = new CandidateActions(this.reverts, (run, id, decision, by) => this.decide(run, id, decision, by), this.log);
    this.status.name = 'EntroPO';
    this.status.command = 'entropo.showCandidates';
    this.disposables.push(this.log, this.status, this.panel, this.trainer, this.reverts,
      vscode.workspace.registerTextDocumentContentProvider(CANDIDATE_SCHEME, new CandidateDocuments((id) => this.runs.get(id))));
  }

  /** Fix Issue...: ask for the issue, run N rollouts with progress, rank them and show the panel. */
  async fixIssue(argument?: unknown): Promise<void> {
    if (this.running) return void vscode.window.showWarningMessage('EntroPO: a run is already in progress. Cancel it first.');
    if (!vscode.workspace.isTrusted) {
      return void vscode.window.showWarningMessage('EntroPO does not run in an untrusted workspace: the agent would execute commands from this repository. Trust the workspace to use it.');
    }
    const folder = await askFolder();
    if (!folder) return;
    // The model first: nobody should type an issue only to hear that nothing can run it.
    const settings = await this.settingsWithModel();
    if (!settings) return;
    const issue = await askIssue(argument);
    if (!issue) return;
    this.running = new AbortController();
    await vscode.commands.executeCommand('setContext', 'entropo.running', true);
    try {
      const storageDir = (this.context.storageUri ?? this.context.globalStorageUri).fsPath;
      const apiKey = await this.context.secrets.get(API_KEY_SECRET);
      const run = (allowUnsandboxed: boolean) => runFix({
        root: folder.uri.fsPath, issue, settings, apiKey, storageDir, storeDir: settings.storeDirectory || path.join(storageDir, 'store'), allowUnsandboxed,
        extensionPath: this.context.extensionUri.fsPath, log: this.log, status: this.status, panel: this.panel,
        controller: this.running!, hiddenPaths: [storageDir, this.context.globalStorageUri.fsPath],
      });
      let result;
      try {
        result = await run(this.context.workspaceState.get<boolean>(UNSANDBOXED_CONSENT) === true);
      } catch (error) {
        // No sandbox here (or it is turned off): run only after the user agrees, once per workspace.
        if (!needsUnsandboxedConsent(error) || !(await this.askConsent(error as Error))) throw error;
        result = await run(true);
      }
      if (result) await this.remember(result.record, result.report);
    } catch (error) {
      this.fail(error);
    } finally {
      this.running = undefined;
      await vscode.commands.executeCommand('setContext', 'entropo.running', false);
    }
  }

  // The settings once a model is configured: offers Configure Model when none is, and goes on after it.
  private async settingsWithModel(): Promise<Settings | undefined> {
    try {
      if (readSettings().model.trim() === '') {
        const choice = await vscode.window.showWarningMessage('EntroPO: no model is configured.', 'Configure Model');
        if (!choice || !(await this.configureModel())) return undefined;
      }
      return readSettings();
    } catch (error) {
      return void this.fail(error);
    }
  }

  /** Cancel Run: stops the rollouts; worktrees and processes are cleaned up before the run ends. */
  cancel(): void {
    if (!this.running) return void vscode.window.showInformationMessage('EntroPO: no run in progress.');
    this.log.info('cancel requested');
    this.running.abort();
  }

  /** Show Candidates: the last run that made candidates (a cancelled or failed run never takes its place). */
  async showCandidates(): Promise<ReviewState | undefined> {
    const run = await this.loadLastRun();
    if (!run) return void vscode.window.showInformationMessage('EntroPO: no candidates yet. Run "EntroPO: Fix Issue..." first.');
    this.panel.show();
    this.panel.update(run.review);
    return run.review;
  }

  /**
   * Apply Candidate: writes the candidate to the working tree as ordinary uncommitted changes; when another
   * candidate of the run is applied, offers to replace it. The argument is an id, or `{candidateId, runId,
   * confirm}`: a candidate of the shown run, or of the run `runId` names.
   */
  async apply(argument?: unknown): Promise<void> {
    await this.act(argument, 'Apply which candidate?', (run, id, confirm) => this.actions.apply(run, id, { confirm }));
  }

  /** Undo Apply: takes the applied candidate out of the working tree again. */
  async undoApply(argument?: unknown): Promise<void> {
    await this.act(argument, 'Undo which candidate?', (run, id) => this.actions.undo(run, id));
  }

  /** Reject Candidate: records that the candidate is not acceptable; an applied one is taken out first. */
  async reject(argument?: unknown): Promise<void> {
    await this.act(argument, 'Reject which candidate?', (run, id, confirm) => this.actions.reject(run, id, { confirm }));
  }

  /**
   * The buttons in a candidate diff's title bar: Apply, Reject, or the next candidate's diff, for the
   * candidate on the diff's right side (`uri`, as VS Code passes it).
   */
  async fromDiff(uri: unknown, action: 'apply' | 'reject' | 'next'): Promise<void> {
    const target = candidateOfUri(uri);
    const run = target ? await this.runById(target.runId) : undefined;
    if (!target || !run) return void vscode.window.showInformationMessage('EntroPO: open a candidate\'s diff first.');
    this.focus(run);
    if (action === 'apply') return this.apply(target.candidateId);
    if (action === 'reject') return this.reject(target.candidateId);
    const order = run.review.candidates.map((c) => c.id);
    const next = order[(order.indexOf(target.candidateId) + 1) % order.length];
    await this.openCandidateDiff(run, next);
  }

  // The native diff editor, snapshot on the left and the candidate on the right, named so.
  private openCandidateDiff(run: RunRecord, candidateId: string): Promise<void> {
    return openDiff(run.runId, 'snapshot', candidateId, [run.patches.get(candidateId) ?? ''], `snapshot ↔ ${candidateId}`);
  }

  /** Compare Two Candidates: the native diff editor between two candidates' files. */
  async compare(a?: string, b?: string): Promise<void> {
    const run = this.current ?? await this.loadLastRun();
    const left = a ?? await this.pickCandidate(run, 'Compare which candidate...');
    const right = b ?? await this.pickCandidate(run, `...with which candidate?`, left);
    if (!run || !left || !right) return;
    await openDiff(run.runId, left, right, [run.patches.get(left) ?? '', run.patches.get(right) ?? ''], `${left} ↔ ${right}`);
  }

  /** Configure Model; resolves true when a model was configured. */
  async configureModel(): Promise<boolean> {
    return configureModel(this.context.secrets);
  }

  openLog(): void {
    this.log.show(true);
  }

  /** Export Preference Data...; `{format, out, weakLabels?}` skips the prompts. Resolves to what was written. */
  async exportPreferences(argument?: unknown): Promise<ExportSummary | undefined> {
    try {
      return await exportPreferenceData(this.storeDir(), this.log, argument);
    } catch (error) {
      return void this.fail(error);
    }
  }

  /** Delete Recorded Data for This Workspace; `{confirm: true}` skips the modal question. */
  async deleteRecordedData(argument?: unknown): Promise<DeleteOutcome | undefined> {
    try {
      if (this.trainer.busy) {
        void vscode.window.showWarningMessage('EntroPO: a training run is in progress, and may be reading the recorded data. Cancel it or let it finish first.');
        return undefined;
      }
      const outcome = await deleteRecordedData(this.storeDir(), this.context.globalStorageUri.fsPath, this.log, argument);
      if (outcome && outcome.files > 0) await this.forgetTasksIn(outcome.dir);
      return outcome;
    } catch (error) {
      return void this.fail(error);
    }
  }

  // The runs recorded in a deleted store stay in the history, but their decisions are no longer recorded:
  // they would point at tasks the store no longer holds. Runs not loaded in this window are edited on disk.
  private async forgetTasksIn(storeDir: string): Promise<void> {
    const inStore = (run: Pick<RunRecord, 'taskId' | 'storeDir'>) => run.taskId !== undefined && path.resolve(run.storeDir) === path.resolve(storeDir);
    for (const id of await readdir(this.runsDir()).catch(() => [] as string[])) {
      const loaded = this.runs.get(id);
      if (loaded) {
        if (!inStore(loaded)) continue;
        Object.assign(loaded, { taskId: undefined, unrecorded: undefined });
        await this.save(loaded);
        continue;
      }
      const file = this.runFile(id);
      const saved = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Partial<RunRecord>;
      if (saved.storeDir === undefined || !inStore(saved as RunRecord)) continue;
      delete saved.taskId;
      delete saved.unrecorded;
      await writeFile(file, JSON.stringify(saved));
    }
  }

  /** Fine-Tune the Model (EntroPO)...; the argument may give {method, baseModel, data, out, cpuOk}. */
  async train(argument?: unknown): Promise<TrainOutcome | undefined> {
    try {
      return await this.trainer.train(argument);
    } catch (error) {
      return void this.fail(error);
    }
  }

  /** Restores the panel VS Code kept open across a reload. */
  async restorePanel(panel: vscode.WebviewPanel): Promise<void> {
    this.panel.restore(panel);
    const run = this.current ?? await this.loadLastRun();
    if (run) this.panel.update(run.review);
  }

  /** Restores the training panel VS Code kept open across a reload. */
  restoreTrainPanel(panel: vscode.WebviewPanel, state: unknown): void {
    this.trainer.restorePanel(panel, state);
  }

  dispose(): void {
    this.running?.abort();
    this.disposables.splice(0).forEach((d) => d.dispose());
  }

  // On the run the panel showed when it was clicked (the message names it), never merely the current one.
  private async onPanelMessage(message: FromWebview): Promise<void> {
    if (message.type === 'ready') return;
    const run = await this.runById(message.runId);
    if (!run) return void vscode.window.showInformationMessage('EntroPO: that run is no longer saved.');
    const runId = run.runId;
    switch (message.type) {
      case 'openDiff':
        return this.openCandidateDiff(run, message.candidateId);
      case 'showTrajectory':
        return this.panel.post({ type: 'trajectory', candidateId: message.candidateId, steps: await this.steps(run, message.candidateId) });
      case 'apply':
        return this.apply({ runId, candidateId: message.candidateId });
      case 'reject':
        return this.reject({ runId, candidateId: message.candidateId });
      case 'undo':
        return this.undoApply({ runId, candidateId: message.candidateId });
      case 'compare':
        this.focus(run);
        return this.compare(message.a, run.review.candidates.length > 2 ? undefined : message.b);
      default:
        return undefined;
    }
  }

  // The run the palette's commands act on from now on, shown in the panel when it is open.
  private focus(run: RunRecord): void {
    if (run === this.current) return;
    this.current = run;
    if (this.panel.visible) this.panel.update(run.review);
  }

  private async steps(run: RunRecord, candidateId: string): Promise<StepView[]> {
    const file = run.trajectories[candidateId];
    if (!file) return [];
    const trajectory = await readTrajectory(file);
    return trajectory.steps.map(({ step }) => toStepView(step, run.workspaces?.[candidateId]));
  }

  /**
   * What became of an applied candidate outside the panel: taken back (reverted), back in the working tree
   * after that or after the panel took it out (restored, e.g. by an Undo in the editor: recorded as applied
   * again), or committed as it was (kept).
   */
  private async onWatched(runId: string, candidateId: string, what: WatchedChange): Promise<void> {
    const run = this.runs.get(runId);
    const decision = run?.review.candidates.find((c) => c.id === candidateId)?.decision;
    if (!run || !(what === 'restored' ? decision !== undefined && decision !== 'applied' && decision !== 'kept' : decision === 'applied')) return;
    // A run with a committed candidate is settled: the same files coming back are that commit's.
    if (what === 'restored' && run.review.candidates.some((c) => c.decision === 'kept')) return;
    const unrecorded = await this.decide(run, candidateId, what === 'restored' ? 'applied' : what, undefined, what === 'restored' ? `back in the working tree after it was ${decision}` : undefined);
    const recorded = (as: string) => (unrecorded ? `shown as ${as}, not recorded: ${unrecorded}` : `recorded as ${as}`);
    void vscode.window.showInformationMessage({
      kept: `EntroPO: ${candidateId} was committed; ${recorded('kept')}.`,
      reverted: `EntroPO: ${candidateId} was taken back; ${recorded('reverted')} (not as a rejection: Reject says that).`,
      restored: `EntroPO: ${candidateId} is back in your working tree; ${recorded('applied again')}.`,
    }[what]);
  }

  // The card shows what happened to the working tree; the store gets the decision, after any it could not
  // take before. A store that cannot take it now is said at once, and the decision waits in run.json.
  // Resolves with why the store does not get it at all, if so.
  private async decide(run: RunRecord, candidateId: string, decision: DecisionKind, by?: string, note?: string): Promise<string | undefined> {
    const candidate = run.review.candidates.find((c) => c.id === candidateId);
    if (candidate) candidate.decision = decision;
    // A run in the background (an applied candidate of it committed or taken back) does not take the panel over.
    if (run === this.current) this.panel.update(run.review);
    const taskId = run.taskId;
    if (taskId && readSetting('recordDecisions')) {
      const pending = [...(run.unrecorded ?? []), { candidateId, decision, ...(by ? { by } : {}), ...(note ? { note } : {}) }];
      try {
        const store = PreferenceStore.open(run.storeDir, { secrets: [await this.context.secrets.get(API_KEY_SECRET) ?? ''].filter(Boolean) });
        for (; pending.length > 0; pending.shift()) {
          await store.appendDecision({ taskId, ...pending[0] });
          this.log.info(`recorded decision: ${pending[0].candidateId} ${pending[0].decision}${pending[0].by ? ` by ${pending[0].by}` : ''}`);
        }
      } catch (error) {
        this.fail(new Error(`${candidateId} is ${decision}, but the preference store in ${run.storeDir} could not record it `
          + `(${error instanceof Error ? error.message : String(error)}). ${pending.length === 1 ? 'The decision is' : `${pending.length} decisions are`} kept with the run and recorded with its next decision.`));
      }
      run.unrecorded = pending.length > 0 ? pending : undefined;
    }
    await this.save(run);
    if (!readSetting('recordDecisions')) return 'recording decisions is off (entropo.recordDecisions)';
    if (!taskId) return 'this run is not in the preference store (it could not be written when the run ended, or Delete Recorded Data removed it)';
    return undefined;
  }

  private async askConsent(error: Error): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(`EntroPO: ${error.message}`, { modal: true,
      detail: 'The agent runs shell commands from the model without asking, N rollouts at a time. Without a sandbox they run with your permissions, files and network.' },
    'Run Unsandboxed in This Workspace');
    if (!choice) return false;
    await this.context.workspaceState.update(UNSANDBOXED_CONSENT, true);
    return true;
  }

  // One of the candidate commands on the shown run (or the run the argument names): the candidate from the
  // argument, else picked.
  private async act(argument: unknown, title: string, action: (run: RunRecord, id: string, confirm: boolean) => Promise<boolean>): Promise<void> {
    const given = typeof argument === 'string' ? { candidateId: argument } : (argument ?? {}) as { candidateId?: unknown; runId?: unknown; confirm?: unknown };
    const named = typeof given.runId === 'string' ? given.runId : undefined;
    const run = named ? await this.runById(named) : this.current ?? await this.loadLastRun();
    if (named && !run) return void vscode.window.showInformationMessage('EntroPO: that run is no longer saved.');
    // The panel then shows the run acted on, whether or not anything gets decided.
    if (named && run) this.focus(run);
    const id = typeof given.candidateId === 'string' ? given.candidateId : await this.pickCandidate(run, title);
    if (!run || !id) return;
    try {
      await action(run, id, given.confirm === true);
    } catch (error) {
      this.fail(error);
    }
  }

  private async pickCandidate(run: RunRecord | undefined, title: string, except?: string): Promise<string | undefined> {
    if (!run) {
      void vscode.window.showInformationMessage('EntroPO: no candidates yet. Run "EntroPO: Fix Issue..." first.');
      return undefined;
    }
    const items = run.review.candidates.filter((c) => c.id !== except)
      .map((c) => ({ label: `#${c.rank} ${c.id}`, description: c.changedFiles.join(', '), detail: c.explanation, id: c.id }));
    return (await vscode.window.showQuickPick(items, { title }))?.id;
  }

  private async remember(record: RunRecord, report: FixReport): Promise<void> {
    this.runs.set(record.runId, record);
    this.current = record;
    await this.save(record);
    await vscode.commands.executeCommand('setContext', HAS_CANDIDATES, report.candidates.length > 0);
    // Said once the run is over, for whoever looked away meanwhile; the panel says the same above the list.
    const { kind, summary, recommended } = report.outcome;
    const line = `EntroPO: ${kind === 'no_fit_candidate' ? 'no candidate worth applying' : kind}: ${summary}`;
    const show = kind === 'ready' || kind === 'no_fit_candidate' ? (m: string, ...a: string[]) => vscode.window.showInformationMessage(m, ...a) : (m: string, ...a: string[]) => vscode.window.showWarningMessage(m, ...a);
    void show(line, ...(recommended ? [`Apply ${recommended}`] : []), 'Show Candidates').then((choice) => {
      if (choice === 'Show Candidates') return void this.showRun(record.runId);
      // The run this notice is about, even when another run is shown by the time it is answered.
      if (choice && recommended) return this.apply({ runId: record.runId, candidateId: recommended });
      return undefined;
    });
  }

  /**
   * Show Run: a run of the history (the Runs view) in the review panel; its candidates are then the ones
   * acted on. Without an id, the run shown now. Resolves to the run's review state, as the panel shows it.
   */
  async showRun(runId?: string): Promise<ReviewState | undefined> {
    const run = runId ? await this.runById(runId) : this.current;
    if (!run) return void vscode.window.showInformationMessage('EntroPO: that run is no longer saved.');
    this.current = run;
    this.panel.show();
    this.panel.update(run.review);
    return run.review;
  }

  private async save(run: RunRecord): Promise<void> {
    const file = this.runFile(run.runId);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ ...run, patches: Object.fromEntries(run.patches) }));
    this.runsView.refresh();
    // Show Candidates comes back to the last run that made candidates; a cancelled or failed one stays in
    // the history without taking that place.
    const kind = run.review.outcome?.kind;
    if (kind === 'ready' || kind === 'no_fit_candidate') await this.context.workspaceState.update(LAST_RUN, file);
  }

  private async loadLastRun(): Promise<RunRecord | undefined> {
    const file = this.context.workspaceState.get<string>(LAST_RUN);
    const run = file ? this.runs.get(path.basename(path.dirname(file))) ?? await this.loadRun(file) : undefined;
    if (run) this.current = run;
    return run;
  }

  // A saved run (run.json), kept in memory from then on; its applied candidates are watched again.
  private async loadRun(file: string): Promise<RunRecord | undefined> {
    try {
      const raw = JSON.parse(await readFile(file, 'utf8')) as RunRecord & { patches: Record<string, string> };
      const run: RunRecord = { ...raw, patches: new Map(Object.entries(raw.patches)) };
      this.runs.set(run.runId, run);
      for (const c of run.review.candidates) {
        if (c.decision === 'applied') this.reverts.watch(run, c.id);
        else if (c.decision === 'reverted') this.reverts.takenOut(run, c.id);
      }
      await vscode.commands.executeCommand('setContext', HAS_CANDIDATES, run.review.candidates.length > 0);
      return run;
    } catch {
      return undefined;
    }
  }

  private runsDir(): string {
    return path.join((this.context.storageUri ?? this.context.globalStorageUri).fsPath, 'runs');
  }

  private runFile(runId: string): string {
    return path.join(this.runsDir(), runId, 'run.json');
  }

  // A run of this window, else the saved one.
  private async runById(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId) ?? this.loadRun(this.runFile(runId));
  }

  /** The preference store of this workspace: the setting, or the extension's storage for the workspace. */
  private storeDir(): string {
    return readSetting('storeDirectory') || path.join((this.context.storageUri ?? this.context.globalStorageUri).fsPath, 'store');
  }

  private fail(error: unknown): void {
    const message = error instanceof AgentError || error instanceof Error ? error.message : String(error);
    this.log.error(message);
    void vscode.window.showErrorMessage(`EntroPO: ${message}`, 'Open Log').then((choice) => { if (choice) this.openLog(); });
  }
}
