import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readTrajectory } from '../core/agent/trajectory.js';
import { AgentError } from '../core/errors.js';
import type { FixReport } from '../core/pipeline/fixIssue.js';
import type { ExportSummary } from '../core/store/exportPreferences.js';
import { needsUnsandboxedConsent } from '../core/sandbox/createProcessRunner.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import type { DecisionKind } from '../core/store/storeTypes.js';
import { applyToWorkingTree } from '../core/worktree/candidateTree.js';
import type { FromWebview, StepView } from '../protocol/messages.js';
import { CANDIDATE_SCHEME, CandidateDocuments, openDiff } from './candidateDocuments.js';
import { configureModel, API_KEY_SECRET } from './configureModel.js';
import { deleteRecordedData, type DeleteOutcome } from './deleteRecordedData.js';
import { exportPreferenceData } from './exportPreferenceData.js';
import { askFolder, askIssue } from './issueInput.js';
import { ReviewPanel } from './reviewPanel.js';
import { RevertWatcher } from './revertWatcher.js';
import { runFix } from './runFix.js';
import type { RunRecord } from './runRecord.js';
import { readSetting, readSettings } from './settings.js';
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

  constructor(private readonly context: vscode.ExtensionContext) {
    this.panel = new ReviewPanel(context.extensionUri, (m) => void this.onPanelMessage(m));
    this.trainer = new ModelTrainer(context, this.log, () => this.storeDir());
    this.reverts = new RevertWatcher((run, id) => this.onReverted(run.runId, id), this.log);
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
    const issue = await askIssue(argument);
    if (!issue) return;
    let settings;
    try {
      settings = readSettings();
    } catch (error) {
      return this.fail(error);
    }
    if (!settings.model) {
      const choice = await vscode.window.showWarningMessage('EntroPO: no model is configured.', 'Configure Model');
      if (choice) await this.configureModel();
      return;
    }
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

  /** Cancel Run: stops the rollouts; worktrees and processes are cleaned up before the run ends. */
  cancel(): void {
    if (!this.running) return void vscode.window.showInformationMessage('EntroPO: no run in progress.');
    this.log.info('cancel requested');
    this.running.abort();
  }

  async showCandidates(): Promise<void> {
    const run = this.current ?? await this.loadLastRun();
    if (!run) return void vscode.window.showInformationMessage('EntroPO: no candidates yet. Run "EntroPO: Fix Issue..." first.');
    this.panel.show();
    this.panel.update(run.review);
  }

  /** Apply Candidate: writes the candidate to the working tree as ordinary uncommitted changes. */
  async apply(candidateId?: string): Promise<void> {
    const run = this.current ?? await this.loadLastRun();
    const id = candidateId ?? await this.pickCandidate(run, 'Apply which candidate?');
    if (!run || !id) return;
    const unfit = run.review.candidates.find((c) => c.id === id)?.unfit;
    if (unfit) {
      const choice = await vscode.window.showWarningMessage(`EntroPO: ${id} is not worth applying (${unfit}). Apply it anyway?`, { modal: true }, 'Apply Anyway');
      if (choice !== 'Apply Anyway') return;
    }
    try {
      const files = await applyToWorkingTree(run.root, run.snapshotCommit, run.patches.get(id) ?? '');
      await this.decide(run, id, 'applied');
      this.reverts.watch(run, id);
      this.log.info(`applied ${id}: ${files.join(', ')}`);
      void vscode.window.showInformationMessage(`EntroPO: applied ${id} (${files.join(', ')}). The change is in Source Control, uncommitted.`);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Reject Candidate: records that the candidate is not acceptable. */
  async reject(candidateId?: string): Promise<void> {
    const run = this.current ?? await this.loadLastRun();
    const id = candidateId ?? await this.pickCandidate(run, 'Reject which candidate?');
    if (!run || !id) return;
    await this.decide(run, id, 'rejected');
    void vscode.window.showInformationMessage(`EntroPO: recorded that ${id} is rejected.`);
  }

  /** Compare Two Candidates: the native diff editor between two candidates' files. */
  async compare(a?: string, b?: string): Promise<void> {
    const run = this.current ?? await this.loadLastRun();
    const left = a ?? await this.pickCandidate(run, 'Compare which candidate...');
    const right = b ?? await this.pickCandidate(run, `...with which candidate?`, left);
    if (!run || !left || !right) return;
    await openDiff(run.runId, left, right, [run.patches.get(left) ?? '', run.patches.get(right) ?? ''], `${left} ↔ ${right}`);
  }

  async configureModel(): Promise<void> {
    await configureModel(this.context.secrets);
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
      return await deleteRecordedData(this.storeDir(), this.log, argument);
    } catch (error) {
      return void this.fail(error);
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

  private async onPanelMessage(message: FromWebview): Promise<void> {
    const run = this.current;
    if (!run) return;
    switch (message.type) {
      case 'openDiff':
        return openDiff(run.runId, 'snapshot', message.candidateId, [run.patches.get(message.candidateId) ?? ''], `EntroPO ${message.candidateId}`);
      case 'showTrajectory':
        return this.panel.post({ type: 'trajectory', candidateId: message.candidateId, steps: await this.steps(run, message.candidateId) });
      case 'apply':
        return this.apply(message.candidateId);
      case 'reject':
        return this.reject(message.candidateId);
      case 'compare':
        return this.compare(message.a, run.review.candidates.length > 2 ? undefined : message.b);
      default:
        return undefined;
    }
  }

  private async steps(run: RunRecord, candidateId: string): Promise<StepView[]> {
    const file = run.trajectories[candidateId];
    if (!file) return [];
    const trajectory = await readTrajectory(file);
    return trajectory.steps.map(({ step }) => ({
      index: step.index + 1, thought: step.thought, observation: step.observation,
      action: step.action ? `${step.action.tool} ${JSON.stringify(step.action.args, null, 2)}` : '(malformed action)',
    }));
  }

  /** An applied candidate's files are all back as in the snapshot: the user took it back. */
  private async onReverted(runId: string, candidateId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run || run.review.candidates.find((c) => c.id === candidateId)?.decision !== 'applied') return;
    await this.decide(run, candidateId, 'reverted');
    void vscode.window.showInformationMessage(`EntroPO: ${candidateId} was taken back; recorded as reverted.`);
  }

  private async decide(run: RunRecord, candidateId: string, decision: DecisionKind): Promise<void> {
    const candidate = run.review.candidates.find((c) => c.id === candidateId);
    if (candidate) candidate.decision = decision;
    this.panel.update(run.review);
    await this.save(run);
    if (!run.taskId || !readSetting('recordDecisions')) return;
    const store = PreferenceStore.open(run.storeDir, { secrets: [await this.context.secrets.get(API_KEY_SECRET) ?? ''].filter(Boolean) });
    await store.appendDecision({ taskId: run.taskId, candidateId, decision });
    this.log.info(`recorded decision: ${candidateId} ${decision}`);
  }

  private async askConsent(error: Error): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(`EntroPO: ${error.message}`, { modal: true,
      detail: 'The agent runs shell commands from the model without asking, N rollouts at a time. Without a sandbox they run with your permissions, files and network.' },
    'Run Unsandboxed in This Workspace');
    if (!choice) return false;
    await this.context.workspaceState.update(UNSANDBOXED_CONSENT, true);
    return true;
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
  }

  private async save(run: RunRecord): Promise<void> {
    const file = path.join((this.context.storageUri ?? this.context.globalStorageUri).fsPath, 'runs', run.runId, 'run.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ ...run, patches: Object.fromEntries(run.patches) }));
    await this.context.workspaceState.update(LAST_RUN, file);
  }

  private async loadLastRun(): Promise<RunRecord | undefined> {
    const file = this.context.workspaceState.get<string>(LAST_RUN);
    if (!file) return undefined;
    try {
      const raw = JSON.parse(await readFile(file, 'utf8')) as RunRecord & { patches: Record<string, string> };
      const run: RunRecord = { ...raw, patches: new Map(Object.entries(raw.patches)) };
      this.runs.set(run.runId, run);
      this.current = run;
      for (const c of run.review.candidates) if (c.decision === 'applied') this.reverts.watch(run, c.id);
      await vscode.commands.executeCommand('setContext', HAS_CANDIDATES, run.review.candidates.length > 0);
      return run;
    } catch {
      return undefined;
    }
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
