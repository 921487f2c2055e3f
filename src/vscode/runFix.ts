import { noActionLabel } from '../core/agent/runStep.js';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Emitter } from '../core/events.js';
import { fixIssue, type FixEvent, type FixReport } from '../core/pipeline/fixIssue.js';
import type { Settings } from '../core/settings/settings.js';
import type { RunRecord } from './runRecord.js';
import type { ReviewPanel } from './reviewPanel.js';
import { toStepView } from './stepViews.js';
import { rankedReview, reviewEvent, startReview } from './reviewState.js';

/** What one run needs from the extension. */
export interface RunFixOptions {
  root: string;
  issue: string;
  settings: Settings;
  apiKey?: string;
  storageDir: string;
  storeDir: string;
  extensionPath: string;
  log: vscode.LogOutputChannel;
  status: vscode.StatusBarItem;
  panel: ReviewPanel;
  controller: AbortController;
  /** The user agreed to run commands unsandboxed in this workspace. */
  allowUnsandboxed: boolean;
  /** Folders the agent's commands must not see: the extension's storage and the store. */
  hiddenPaths: string[];
}

/** Runs the job under a cancellable progress notification, live in the panel, the status bar and the log. */
export async function runFix(o: RunFixOptions): Promise<{ record: RunRecord; report: FixReport } | undefined> {
  const { settings: s, log, status, panel } = o;
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const review = startReview(runId, o.issue, s.samples);
  const outDir = path.join(o.storageDir, 'runs', runId);
  const events = new Emitter<FixEvent>();
  let done = 0;
  const workspaces: Record<string, string> = {};
  events.subscribe((event) => {
    reviewEvent(review, event);
    if (event.type === 'rollout_start') workspaces[event.runId] = event.worktree;
    if (event.type === 'step') {
      log.trace(`[${event.runId}] step ${event.step.index + 1}: ${event.step.action?.tool ?? noActionLabel(event.step)}`);
      // Streamed to the panel as it happens, the observation shortened: the whole one is in the trajectory file.
      const step = toStepView(event.step, workspaces[event.runId]);
      panel.post({ type: 'step', candidateId: event.runId, step: { ...step, observation: clip(step.observation, LIVE_OBSERVATION_CHARS) } });
    }
    if (event.type === 'rollout_end') {
      done++;
      log.info(`[${event.candidate.id}] ${event.candidate.exitReason}${event.candidate.message ? `: ${event.candidate.message}` : ''} (${event.candidate.steps} steps)`);
    }
    if (event.type === 'snapshot') log.info(`snapshot ${event.commit} of ${o.root}`);
    status.text = review.status === 'verifying' ? '$(sync~spin) EntroPO: ranking' : `$(sync~spin) EntroPO: ${done}/${s.samples}`;
    panel.update(review);
  });
  status.show();
  panel.show();
  panel.update(review);
  log.info(`run ${runId}: ${s.samples} rollouts of ${s.model} at ${s.endpoint} (${s.actionFormat} format)`);
  try {
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'EntroPO', cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => o.controller.abort());
      events.subscribe((event) => {
        if (event.type === 'rollout_end') progress.report({ increment: 100 / s.samples, message: `${done}/${s.samples} rollouts done` });
        if (event.type === 'verify_start') progress.report({ message: 'verifying and ranking candidates' });
      });
      return fixIssue(s, {
        repoDir: o.root, issue: o.issue, outDir, storeDir: o.storeDir, apiKey: o.apiKey, events, signal: o.controller.signal,
        bundledLocalModel: path.join(o.extensionPath, 'dist', 'local-verifier.onnx'), hiddenPaths: o.hiddenPaths,
        consent: o.allowUnsandboxed, onWarning: (m) => log.warn(m),
      });
    });
    // What the core decided and recorded: a cancel that came after the verification finished changed nothing.
    const cancelled = report.status === 'cancelled';
    const ranked = rankedReview(review, report, cancelled);
    panel.update(ranked);
    log.info(`ranked: ${report.ranking.order.join(' > ')}${report.taskId ? ` (recorded as ${report.taskId})` : ''}`);
    for (const c of report.candidates) log.info(`  ${c.id}: ${c.explanation}`);
    const record: RunRecord = {
      runId, root: report.batch.snapshot.root, snapshotCommit: report.batch.snapshot.commit, taskId: report.taskId, storeDir: o.storeDir,
      patches: new Map(report.candidates.map((c) => [c.id, c.patch])),
      trajectories: Object.fromEntries(report.candidates.filter((c) => c.trajectoryFile).map((c) => [c.id, c.trajectoryFile!])),
      workspaces, status: report.status,
      review: ranked,
    };
    return { record, report };
  } finally {
    status.hide();
  }
}

const LIVE_OBSERVATION_CHARS = 2000;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n... (${text.length - max} more characters; the whole observation is in the trajectory)` : text;
}
