import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { AgentEvent } from '../agent/agentEvents.js';
import type { AgentConfig } from '../agent/config.js';
import { runAgent } from '../agent/runAgent.js';
import { mapLimited, shareSignal } from '../concurrency.js';
import { AgentError, ErrorReason } from '../errors.js';
import { Emitter } from '../events.js';
import { NodeProcessRunner } from '../node/nodeProcessRunner.js';
import { NodeWorkspace } from '../node/nodeWorkspace.js';
import { SETTINGS } from '../settings/settings.js';
import { createProcessRunner, decideRunner, type ContainedRunner } from '../sandbox/createProcessRunner.js';
import { detectSandbox } from '../sandbox/detectSandbox.js';
import type { HelperSandbox } from '../sandbox/helperSandbox.js';
import { inNamespace } from '../sandbox/namespacedRunner.js';
import type { ContainmentPolicy } from '../sandbox/sandboxTypes.js';
import { checkoutToHide } from '../sandbox/secretPaths.js';
import type { Model, ProcessRunner, Usage } from '../types.js';
import { diversity } from '../worktree/diversity.js';
import { chooseIsolation, type IsolationMode } from '../worktree/isolation.js';
import { changedFiles } from '../worktree/patch.js';
import { snapshot } from '../worktree/snapshot.js';
import type { IsolatedWorkspace } from '../worktree/workspaceTypes.js';
import { installedDependencies, linkDependencies, linkedFolders, type InstalledDependencies } from '../worktree/dependencyLinks.js';
import { withImportPaths } from '../worktree/editableInstalls.js';
import { createWorkspaces, removeWorkspaces, workspacePatch } from '../worktree/workspaces.js';
import { pruneStale } from '../worktree/worktrees.js';
import { addUsage, sumUsage, zeroUsage } from '../usage.js';
import type { BatchBudget, BatchEvent, BatchResult, Candidate } from './batchTypes.js';

export type { ContainmentPolicy } from '../sandbox/sandboxTypes.js';

/** Everything a best-of-N batch needs. */
export interface RunBatchOptions {
  repoDir: string;
  issue: string;
  /** Number of rollouts, 1 to 16. */
  samples: number;
  /** Rollouts running at once; defaults to all. */
  concurrency?: number;
  /** The model of rollout k; a function lets each rollout have its own instance or an override. */
  model: (index: number) => Model;
  config: AgentConfig;
  /** Rollout k samples with seed + k, so runs differ but can be reproduced where the server honours seeds. */
  seed?: number;
  /** One runner for every rollout (tests); without it each rollout gets its own runner from `containment`. */
  runner?: ProcessRunner;
  /**
   * How the agent's commands are contained: a sandbox per rollout whose only writable folder is that
   * rollout's workspace. Without it (and without `runner`) commands run unsandboxed.
   */
  containment?: ContainmentPolicy;
  /**
   * How rollouts are isolated from each other and from the user's tree: `overlay`, a copy-on-write overlay
   * per rollout over one shared checkout of the snapshot (constant time and disk whatever the repository's
   * size; Linux with unprivileged user namespaces and overlayfs); `worktree`, one git worktree each (works
   * everywhere, grows with the repository); `auto` (default), overlays where a probe at start finds they work.
   */
  isolation?: IsolationMode;
  /** Where trajectories are written, one file per rollout. */
  outDir: string;
  signal?: AbortSignal;
  budget?: BatchBudget;
  events?: Emitter<BatchEvent>;
  /** Folder for workspaces (and shared checkouts); defaults to one under the system's temp folder. */
  worktreeBaseDir?: string;
}

/** Maximum rollouts in one batch. */
export const MAX_SAMPLES = SETTINGS.samples.max!;

/**
 * Runs N rollouts of the agent on one issue, each in its own workspace (an overlay or a worktree, see
 * `isolation`) of a snapshot of the user's state, and returns their patches. The user's working tree, index,
 * stash and branches are never written; the workspaces are removed before this returns, whatever happens
 * (a shared checkout under overlays stays for the next batch). The snapshot's ref is kept for applying and
 * verifying.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchResult> {
  const { samples, events } = options;
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES) {
    throw new AgentError(ErrorReason.Config, `samples must be an integer from 1 to ${MAX_SAMPLES}, got ${samples}.`);
  }
  const concurrency = options.concurrency ?? samples;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new AgentError(ErrorReason.Config, `concurrency must be a positive integer, got ${concurrency}.`);
  }
  const started = Date.now();
  const batchId = `${new Date(started).toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  events?.emit({ type: 'batch_start', batchId, samples, concurrency });
  // A policy that refuses to run, or needs the user's consent, must say so before any workspace exists.
  const sandboxed = options.containment && !options.runner ? await checkContainment(options.containment) : undefined;
  const isolation = await chooseIsolation(options.isolation, { baseDir: options.worktreeBaseDir, bwrapPath: sandboxed });
  events?.emit({ type: 'isolation', kind: isolation.kind, reason: isolation.reason });
  const pruned = await pruneStale(options.repoDir, { baseDir: options.worktreeBaseDir });
  if (pruned.batches.length > 0) events?.emit({ type: 'pruned', batches: pruned.batches.length });
  const snap = await snapshot(options.repoDir, { signal: options.signal });
  events?.emit({ type: 'snapshot', commit: snap.commit });
  const batch = await createWorkspaces(snap, samples, {
    kind: isolation.kind, baseDir: options.worktreeBaseDir, batchId, signal: options.signal,
    onProgress: (p) => events?.emit({ type: 'checkout_progress', ...p }),
  });
  events?.emit({ type: 'worktrees_ready', paths: batch.workspaces.map((w) => w.path) });
  const guard = new BatchGuard(options.signal, options.budget);
  // The user's checkout is none of the agent's business (its ignored .env, its untracked notes): hidden from
  // its commands and from the filter drivers, but for its git folder, which the workspace's git needs, and
  // the dependencies linked in.
  const sandbox = options.containment?.sandbox;
  const hiddenPaths = [...(sandbox?.hiddenPaths ?? []), ...checkoutToHide(snap.root, sandbox?.home)];
  // Git runs the repository's filter drivers when it reads a patch out of a workspace the agent wrote in.
  const filterSandbox = sandboxed ? { ...sandbox, hiddenPaths, bwrapPath: sandboxed } : undefined;
  let candidates: Candidate[];
  try {
    // The agent tests in the environment the verifier ranks it in: the user's installed dependencies, where
    // the sandbox keeps them read-only. Uncontained, a `pip install` or `npm install` of the agent's would
    // change the user's own environment through the link, for every rollout at once: then none are linked.
    const deps = await installedDependencies(snap.root, sandboxed ? undefined : []);
    const linked = await Promise.all(batch.workspaces.map((ws) => linkDependencies(deps, ws.path)));
    candidates = await mapLimited(batch.workspaces, concurrency, (ws, k) => runRollout(options, { commit: snap.commit, filterSandbox, linked: linked[k] }, ws, k, guard, { deps, hiddenPaths }));
  } finally {
    events?.emit({ type: 'cleanup' });
    guard.dispose();
    await removeWorkspaces(batch, { baseDir: options.worktreeBaseDir });
  }
  const result: BatchResult = {
    batchId, snapshot: snap, isolation, candidates, diversity: diversity(candidates.filter((c) => c.patch !== '').map((c) => c.patch)),
    usage: sumUsage(candidates.map((c) => c.usage)), wallMs: Date.now() - started, stopped: guard.signal.aborted,
  };
  events?.emit({ type: 'batch_end', result });
  return result;
}

interface PatchBase {
  /** The snapshot's commit, which the patch is taken against. */
  commit: string;
  filterSandbox?: HelperSandbox;
  /** The dependency folders linked into this workspace, which its patch leaves out. */
  linked: string[];
}

/** What every rollout's sandbox gets of the user's checkout: its linked dependencies, and the paths hidden. */
interface RolloutSurroundings {
  deps: InstalledDependencies;
  hiddenPaths: string[];
}

async function runRollout(options: RunBatchOptions, patchBase: PatchBase, ws: IsolatedWorkspace, k: number, guard: BatchGuard,
  { deps, hiddenPaths }: RolloutSurroundings): Promise<Candidate> {
  const id = `r${k}`;
  const seed = options.seed === undefined ? undefined : options.seed + k;
  const config: AgentConfig = { ...options.config, sampling: { ...options.config.sampling, seed } };
  const base = { id, patch: '', changedFiles: [], steps: 0, usage: zeroUsage(), wallMs: 0, model: '', messages: [],
    temperature: config.sampling.temperature, seed } satisfies Partial<Candidate>;
  if (guard.signal.aborted) {
    return { ...base, exitReason: guard.budgetHit ? 'limits_exceeded' : 'cancelled', message: `Not started: ${guard.reason()}.`, ...(guard.budgetHit ? { batchBudget: true as const } : {}) };
  }
  const agentEvents = new Emitter<AgentEvent>();
  agentEvents.subscribe((event) => {
    if (event.type === 'step') guard.add(event.step.usage);
    options.events?.emit(event);
  });
  options.events?.emit({ type: 'rollout_start', runId: id, worktree: ws.path });
  const trajectoryFile = path.join(options.outDir, `${id}.trajectory.jsonl`);
  let candidate: Candidate;
  let contained: ContainedRunner | undefined;
  try {
    const model = options.model(k);
    // The sandbox binds the workspace where its commands see it (inside an overlay's namespace), and starts there.
    const expose = [...(options.containment?.sandbox.expose ?? []), ...linkedFolders(deps)];
    contained = !options.runner && options.containment
      ? await createProcessRunner({ ...options.containment, sandbox: { ...options.containment.sandbox, writable: [ws.inside], namespace: ws.namespace, hiddenPaths, expose } })
      : undefined;
    const run = await runAgent({
      model, config, issue: options.issue, id, trajectoryFile, signal: guard.signal, events: agentEvents,
      workspace: new NodeWorkspace(ws.inside, { hostRoot: ws.namespace?.hostRoot }),
      runner: withImportPaths(contained ?? inNamespace(options.runner ?? new NodeProcessRunner(), ws.namespace),
        deps.importPaths.map((rel) => path.join(ws.inside, rel))),
    });
    const patch = await workspacePatch(ws, patchBase.commit, { keep: mentionedPaths(run.result), filterSandbox: patchBase.filterSandbox,
      linked: patchBase.linked, onWarning: (message) => options.containment?.onWarning?.(`${id}: ${message}`) });
    const stoppedByBudget = run.exitReason === 'cancelled' && guard.budgetHit;
    candidate = { ...base, patch, changedFiles: changedFiles(patch), result: run.result,
      exitReason: stoppedByBudget ? 'limits_exceeded' : run.exitReason,
      message: stoppedByBudget ? `Stopped: ${guard.reason()}.` : run.message, ...(stoppedByBudget ? { batchBudget: true as const } : {}), steps: run.steps.length, usage: run.usage, wallMs: run.wallMs, model: model.name,
      trajectoryFile, messages: run.messages };
  } catch (error) {
    // One rollout's failure (a bug, a full disk) must not take the other rollouts down.
    candidate = { ...base, exitReason: 'crashed', trajectoryFile,
      message: `The rollout crashed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await contained?.dispose();
  }
  options.events?.emit({ type: 'rollout_end', candidate });
  return candidate;
}

/** Throws when the policy cannot run here; resolves bubblewrap's path when commands will be sandboxed. */
async function checkContainment(policy: ContainmentPolicy): Promise<string | undefined> {
  const support = await detectSandbox();
  const decision = decideRunner(policy, support);
  if (decision.kind === 'refuse' || decision.kind === 'ask') {
    // Let createProcessRunner throw its own error (the consent marker included) before any workspace exists.
    await createProcessRunner({ ...policy, sandbox: { ...policy.sandbox, writable: [] } });
  }
  return decision.kind === 'sandbox' ? support.bwrapPath : undefined;
}

// Scratch files the agent names in its finish result (e.g. "keep tests/test_repro.py") stay in its patch.
function mentionedPaths(result: string | undefined): string[] {
  return result ? [...result.matchAll(/[\w./-]+\.\w+/g)].map((m) => m[0]) : [];
}

/** The batch's cancel signal: fires on the caller's cancel, a batch budget, or the batch's wall time. */
class BatchGuard {
  private readonly controller = new AbortController();
  private readonly used = zeroUsage();
  private readonly timer?: NodeJS.Timeout;
  budgetHit = false;
  readonly signal = this.controller.signal;

  constructor(private readonly outer: AbortSignal | undefined, private readonly budget: BatchBudget = {}) {
    shareSignal(this.signal);
    if (outer?.aborted) this.controller.abort();
    outer?.addEventListener('abort', this.onAbort, { once: true });
    if (budget.wallTimeMs) this.timer = setTimeout(() => this.stop(), budget.wallTimeMs);
  }

  add(usage: Usage): void {
    addUsage(this.used, usage);
    const tokens = this.used.promptTokens + this.used.completionTokens;
    if ((this.budget.costUsd !== undefined && this.used.costUsd >= this.budget.costUsd)
      || (this.budget.tokens !== undefined && tokens >= this.budget.tokens)) this.stop();
  }

  reason(): string {
    return this.budgetHit ? 'the batch budget was used up' : 'the batch was cancelled';
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }

  private readonly onAbort = () => this.controller.abort();

  private stop(): void {
    if (this.controller.signal.aborted) return;
    this.budgetHit = true;
    this.controller.abort();
  }
}

