/**
 * The parts of a run, built from the settings in one place: the agent's config, the model, the containment
 * policy and every verifier. `fixIssue` and `rankInstances` both build theirs here, so the CLI and the
 * extension cannot drift apart in what a setting means.
 */
import { resolveConfig, type AgentConfig } from '../agent/config.js';
import { AgentError, ErrorReason } from '../errors.js';
import type { Limiter } from '../limiter.js';
import type { ModelSource } from '../llm/createModel.js';
import { OpenAiModel } from '../llm/openAiModel.js';
import type { ContainmentPolicy } from '../sandbox/sandboxTypes.js';
import { settingNames } from '../settings/resolveSettings.js';
import type { Settings } from '../settings/settings.js';
import type { ProcessRunner } from '../types.js';
import { testVerifier } from '../verify/execution/testSignals.js';
import { judgeVerifier } from '../verify/judge.js';
import { localVerifierFor } from '../verify/local/localVerifier.js';
import type { SelectOptions } from '../verify/select.js';
import type { Verifier } from '../verify/verifier.js';
import type { IsolationMode } from '../worktree/isolation.js';
import type { Snapshot } from '../worktree/snapshot.js';

/** The config recorded with every rollout: action format, limits (0 means none), sampling. */
export function agentConfigFrom(s: Settings): AgentConfig {
  const config = resolveConfig({
    format: s.actionFormat,
    limits: {
      maxSteps: s.maxSteps, maxContextTokens: s.maxContextTokens, maxNewTokens: s.maxNewTokens,
      wallTimeMs: Math.round(s.timeLimitMinutes * 60_000), toolTimeoutMs: Math.round(s.toolTimeoutSeconds * 1000),
      maxTotalTokens: s.maxTokens || undefined, maxCostUsd: s.maxCostUsd || undefined,
    },
    sampling: { temperature: s.temperature, topP: s.topP, extra: Object.keys(s.extraSamplingParameters).length ? s.extraSamplingParameters : undefined },
  });
  if (s.maxCostUsd === 0) delete config.limits.maxCostUsd;
  return config;
}

/** A live OpenAI-compatible endpoint, as the settings give it. */
export type Endpoint = Extract<ModelSource, { kind: 'endpoint' }>;

/** The agent's endpoint, as the settings give it. */
export function endpointFrom(s: Settings, apiKey?: string): Endpoint {
  if (s.model.trim() === '') throw new AgentError(ErrorReason.Config, `No model is configured: set ${settingNames('model')}.`);
  return {
    kind: 'endpoint', baseUrl: s.endpoint, model: s.model, apiKey,
    requestTimeoutMs: Math.round(s.requestTimeoutSeconds * 1000), streamIdleTimeoutMs: Math.round(s.streamIdleTimeoutSeconds * 1000),
    pricing: { inputPerMTok: s.priceInputPerMTok, outputPerMTok: s.priceOutputPerMTok },
  };
}

/** How commands are contained; `consent` is the front end's own consent (the extension asks once per workspace). */
export function containmentFrom(s: Settings, host: { consent?: boolean; hiddenPaths?: string[]; secrets?: string[]; onWarning?: (m: string) => void }): ContainmentPolicy {
  return {
    mode: s.sandboxMode, allowUnsandboxed: s.allowUnsandboxed || host.consent === true, onWarning: host.onWarning,
    sandbox: { network: s.network, allowedHosts: s.allowedHosts, hiddenPaths: host.hiddenPaths ?? [], secrets: host.secrets ?? [], readOnly: [] },
  };
}

/** The selector's settings. */
export function selectorFrom(s: Settings): SelectOptions {
  return { mode: s.selectorMode, tieBreak: s.tieBreak };
}

/** What verifying candidates needs besides the settings. */
export interface VerifierContext {
  apiKey?: string;
  /** The rollouts' live endpoint, which also judges when no judge endpoint is set; absent for replayed scripts and `rank`. */
  agentEndpoint?: Endpoint;
  /** The local verifier model when the setting names none (the extension's bundled copy). */
  bundledLocalModel?: string;
  /** Shared by the test runs of several verifications at once. */
  limiter?: Limiter;
  /** Where the test runs' checkouts go. */
  baseDir?: string;
}

/** One issue's verification: its text, the snapshot its candidates were made from, its own test command. */
export interface VerifiedIssue {
  issue: string;
  /** Without it the tests do not run. */
  snapshot?: Snapshot;
  /** A `rank` input line's own test command, before the setting's. */
  testCommand?: string;
  /** Runs the tests instead of a contained runner (tests of the core). */
  runner?: ProcessRunner;
  /** How the test runs are contained: a sandbox writable only in this verification's own workspaces. */
  containment?: ContainmentPolicy;
  /** Overlays or worktrees for the test runs' workspaces: the rollouts' kind; unset: the setting. */
  isolation?: IsolationMode;
  /** After a cancel only the quick signals run: no tests, no models. */
  quickOnly?: boolean;
}

/**
 * The verifiers the settings turn on (the LLM judge, the local model, the tests), for each issue. Checked
 * when this is called, before any rollout runs: a judge without a model fails here, not after the batch.
 */
export function verifierFactory(s: Settings, ctx: VerifierContext): (issue: VerifiedIssue) => Verifier[] {
  const judge = s.judge ? judgeModelFrom(s, ctx) : undefined;
  const modelPath = s.localModel.trim() || ctx.bundledLocalModel;
  return (run) => {
    if (run.quickOnly) return [];
    const verifiers: Verifier[] = [];
    if (judge) verifiers.push(judgeVerifier({ model: judge, issue: run.issue }));
    if (s.localVerifier) verifiers.push(localVerifierFor(run.issue, { modelPath }));
    if (s.tests && run.snapshot) {
      verifiers.push(testVerifier(run.snapshot, {
        issue: run.issue,
        baseDir: ctx.baseDir, runner: run.runner, containment: run.containment, isolation: run.isolation ?? s.isolation, limiter: ctx.limiter, command: run.testCommand ?? (s.testCommand.trim() || undefined),
        testTimeoutMs: s.testTimeoutSeconds * 1000, concurrency: s.testConcurrency, sharedBreaks: s.sharedBreaks,
      }));
    }
    return verifiers;
  };
}

/**
 * The judge's client: its own endpoint and model, else the agent's endpoint (priced like the rollouts, so
 * that its calls count in the cost); none where there is no endpoint to ask. Either way a call waits as
 * long as the agent's would (the request timeout).
 */
function judgeModelFrom(s: Settings, ctx: VerifierContext): OpenAiModel | undefined {
  const own = s.judgeEndpoint.trim();
  if (!own && !ctx.agentEndpoint) return undefined;
  const model = s.judgeModel.trim() || s.model.trim();
  if (!model) throw new AgentError(ErrorReason.Config, `The judge needs a model: set ${settingNames('judgeModel')}.`);
  const requestTimeoutMs = Math.round(s.requestTimeoutSeconds * 1000);
  return own
    ? new OpenAiModel({ baseUrl: own, model, apiKey: ctx.apiKey, requestTimeoutMs })
    : new OpenAiModel({ baseUrl: ctx.agentEndpoint!.baseUrl, model, apiKey: ctx.apiKey, pricing: ctx.agentEndpoint!.pricing, requestTimeoutMs });
}
