import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveConfig } from '../core/agent/config.js';
import { Emitter } from '../core/events.js';
import { createModelFactory } from '../core/llm/createModel.js';
import { OpenAiModel } from '../core/llm/openAiModel.js';
import { fixIssue, type FixEvent, type FixReport } from '../core/pipeline/fixIssue.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { localVerifierProvider } from '../core/verify/local/localVerifier.js';
import type { RunRecord } from './runRecord.js';
import type { ReviewPanel } from './reviewPanel.js';
import { rankedReview, reviewEvent, startReview } from './reviewState.js';
import type { ExtensionSettings } from './settings.js';

/** What one run needs from the extension. */
export interface RunFixOptions {
  root: string;
  issue: string;
  settings: ExtensionSettings;
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
  events.subscribe((event) => {
    reviewEvent(review, event);
    if (event.type === 'step') log.trace(`[${event.runId}] step ${event.step.index + 1}: ${event.step.action?.tool ?? 'malformed action'}`);
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
  const judge = s.judge.enabled
    ? { model: new OpenAiModel({ baseUrl: s.judge.endpoint || s.endpoint, model: s.judge.model || s.model, apiKey: o.apiKey }) }
    : undefined;
  try {
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'EntroPO', cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => o.controller.abort());
      events.subscribe((event) => {
        if (event.type === 'rollout_end') progress.report({ increment: 100 / s.samples, message: `${done}/${s.samples} rollouts done` });
        if (event.type === 'verify_start') progress.report({ message: 'verifying and ranking candidates' });
      });
      return fixIssue({
        repoDir: o.root, issue: o.issue, samples: s.samples, concurrency: s.concurrency, seed: s.seed, outDir, events,
        signal: o.controller.signal,
        config: resolveConfig({
          format: s.actionFormat,
          limits: { maxSteps: s.maxSteps, maxCostUsd: s.maxCostUsd || undefined, maxTotalTokens: s.maxTokens || undefined, wallTimeMs: s.timeLimitMinutes * 60_000 },
          sampling: { temperature: s.temperature, topP: s.topP, extra: Object.keys(s.extra).length ? s.extra : undefined },
        }),
        model: await createModelFactory({ kind: 'endpoint', baseUrl: s.endpoint, model: s.model, apiKey: o.apiKey, pricing: s.pricing,
          requestTimeoutMs: Math.round(s.requestTimeoutSeconds * 1000), streamIdleTimeoutMs: Math.round(s.streamIdleTimeoutSeconds * 1000) }),
        containment: {
          mode: s.sandbox.mode, allowUnsandboxed: o.allowUnsandboxed, onWarning: (m) => log.warn(m),
          sandbox: {
            network: s.sandbox.network, allowedHosts: s.sandbox.allowedHosts, hiddenPaths: o.hiddenPaths,
            secrets: o.apiKey ? [o.apiKey] : [], readOnly: [],
          },
        },
        budget: { costUsd: s.batchCostUsd || undefined },
        verify: { judge, local: s.localVerifier ? localVerifierProvider(o.issue, { modelPath: s.localModel || path.join(o.extensionPath, 'dist', 'local-verifier.onnx') }) : undefined },
        tests: s.tests ? { command: s.testCommand.trim() || undefined, testTimeoutMs: s.testTimeoutSeconds * 1000, concurrency: s.testConcurrency } : false,
        selector: s.selector,
        store: PreferenceStore.open(o.storeDir, { enabled: s.recordDecisions, secrets: o.apiKey ? [o.apiKey] : [], repoRoot: o.root }),
      });
    });
    const cancelled = o.controller.signal.aborted;
    const ranked = rankedReview(review, report, cancelled);
    panel.update(ranked);
    log.info(`ranked: ${report.ranking.order.join(' > ')}${report.taskId ? ` (recorded as ${report.taskId})` : ''}`);
    for (const id of report.ranking.order) log.info(`  ${id}: ${report.ranking.explanations[id]}`);
    const record: RunRecord = {
      runId, root: report.batch.snapshot.root, snapshotCommit: report.batch.snapshot.commit, taskId: report.taskId, storeDir: o.storeDir,
      patches: new Map(report.batch.candidates.map((c) => [c.id, c.patch])),
      trajectories: Object.fromEntries(report.batch.candidates.filter((c) => c.trajectoryFile).map((c) => [c.id, c.trajectoryFile!])),
      review: ranked,
    };
    return { record, report };
  } finally {
    status.hide();
  }
}
