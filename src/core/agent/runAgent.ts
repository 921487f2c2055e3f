import { randomUUID } from 'node:crypto';
import {
  AgentError, Cancelled, ErrorReason, FormatError, isAbort, LimitsExceeded, ModelFailed, Outcome, Submitted,
} from '../errors.js';
import type { Emitter } from '../events.js';
import { renderToolsForPrompt } from '../llm/textFormat.js';
import { settingNames } from '../settings/resolveSettings.js';
import { defaultTools } from '../tools/defaultTools.js';
import type { Tool } from '../tools/tool.js';
import type { ExitReason, Message, Model, ProcessRunner, Step, Usage, Workspace } from '../types.js';
import type { AgentEvent } from './agentEvents.js';
import type { AgentConfig } from './config.js';
import { ISSUE_TEMPLATE, render, SYSTEM_TEMPLATE, TEXT_TOOLS_TEMPLATE } from './prompts.js';
import { estimateTokens } from './condense.js';
import { contextBudget, cutLimitMessage, runStep, type StepRecord } from './runStep.js';
import { TrajectoryWriter } from './trajectory.js';
import { wallClock, type WallClock } from './wallClock.js';

/** Everything one rollout needs. */
export interface RunAgentOptions {
  model: Model;
  workspace: Workspace;
  runner: ProcessRunner;
  config: AgentConfig;
  issue: string;
  tools?: readonly Tool[];
  trajectoryFile?: string;
  signal?: AbortSignal;
  events?: Emitter<AgentEvent>;
  id?: string;
}

/** The end of a rollout: why it stopped, what it did and what it cost. */
export interface AgentResult {
  id: string;
  exitReason: ExitReason;
  /** The finish tool's `result` when submitted. */
  result?: string;
  /** One line for people when the run did not submit. */
  message?: string;
  steps: Step[];
  messages: Message[];
  usage: Usage;
  wallMs: number;
}

const MAX_FORMAT_ERRORS_IN_A_ROW = 3;
const MODEL_FAILURES = new Set([ErrorReason.ModelUnavailable, ErrorReason.ModelRejected, ErrorReason.ModelTruncated, ErrorReason.ModelReplyTooLarge]);

/** Runs one multi-turn tool loop until the model submits, a limit is hit, or the run fails or is cancelled. */
export async function runAgent(options: RunAgentOptions): Promise<AgentResult> {
  const { model, config, issue, events } = options;
  const id = options.id ?? randomUUID();
  const tools = options.tools ?? defaultTools;
  const writer = options.trajectoryFile ? new TrajectoryWriter(options.trajectoryFile) : undefined;
  const started = Date.now();
  const state = { messages: initialMessages(issue, config, tools), steps: [] as Step[], formatErrors: 0,
    usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 } as Usage, tokensPerChar: 0.3 };
  await writer?.write({ type: 'header', format: 'entropo-trajectory-1.0', id, startedAt: new Date(started).toISOString(),
    model: model.name, config, issue, messages: state.messages });
  const wall = wallClock(options.signal, config.limits.wallTimeMs);
  const context = { workspace: options.workspace, runner: options.runner, signal: wall.signal,
    toolTimeoutMs: config.limits.toolTimeoutMs, editHistory: new Map<string, (string | null)[]>() };
  let outcome: Outcome;
  try {
    for (;;) {
      checkLimits(state.steps.length, state.usage, config, wall);
      events?.emit({ type: 'model_call', runId: id, step: state.steps.length });
      const record: StepRecord = await runStep({ state, config, model, tools, context, wall });
      state.steps.push(record.step);
      state.messages.push(...record.messages);
      await writer?.write({ type: 'step', step: record.step, messages: record.messages });
      events?.emit({ type: 'step', runId: id, step: record.step });
      if (record.finish) throw new Submitted(record.finish.result);
      state.formatErrors = record.step.formatError ? state.formatErrors + 1 : 0;
      if (state.formatErrors >= MAX_FORMAT_ERRORS_IN_A_ROW) {
        // An answer cut at the token limit is the limit's doing, not a malformed action of the model's.
        if (record.cut) throw new LimitsExceeded(cutLimitMessage(record.cut, state.formatErrors, config.limits));
        throw new FormatError(`The model produced ${MAX_FORMAT_ERRORS_IN_A_ROW} malformed actions in a row; last: ${record.step.observation.split('\n')[0]}`);
      }
    }
  } catch (error) {
    outcome = toOutcome(error, wall);
  } finally {
    wall.dispose();
  }
  const result: AgentResult = { id, exitReason: outcome.exitReason, steps: state.steps, messages: state.messages,
    usage: state.usage, wallMs: Date.now() - started,
    ...(outcome instanceof Submitted ? { result: outcome.result } : { message: outcome.message }) };
  await writer?.write({ type: 'end', exitReason: result.exitReason, result: result.result, message: result.message,
    usage: result.usage, steps: result.steps.length, wallMs: result.wallMs });
  events?.emit({ type: 'end', runId: id, exitReason: result.exitReason, message: result.message, steps: result.steps.length });
  return result;
}

// Fewer tokens per character than any tokenizer gives prose or code: an issue refused with it cannot fit.
const FEWEST_TOKENS_PER_CHAR = 0.2;

/**
 * Throws before any rollout starts when the system prompt and the issue alone cannot fit the context limit,
 * which every rollout would otherwise find out at its first step. The issue is never condensed.
 */
export function refuseIssueTooLarge(issue: string, config: AgentConfig, tools: readonly Tool[] = defaultTools): void {
  const budget = contextBudget(config.limits.maxContextTokens, config.limits.maxNewTokens);
  const least = estimateTokens(initialMessages(issue, config, tools), FEWEST_TOKENS_PER_CHAR);
  if (least <= budget) return;
  throw new AgentError(ErrorReason.InvalidArgument,
    `The issue is too long for the model's context: with the system prompt it is at least ${least} tokens, and a context of ${config.limits.maxContextTokens} tokens leaves ${budget} for the prompt. Shorten the issue, or raise ${settingNames('maxContextTokens')} if the model's window is larger.`);
}

/** The messages a rollout starts from: the system prompt (with the tools in the text format) and the issue. */
export function initialMessages(issue: string, config: AgentConfig, tools: readonly Tool[] = defaultTools): Message[] {
  const toolText = config.format === 'text'
    ? render(TEXT_TOOLS_TEMPLATE, { functions: renderToolsForPrompt(tools.map((t) => t.spec)) })
    : '';
  return [
    { role: 'system', content: render(SYSTEM_TEMPLATE, { tools: toolText }).trimEnd() },
    { role: 'user', content: render(ISSUE_TEMPLATE, { issue }) },
  ];
}

function checkLimits(steps: number, usage: Usage, config: AgentConfig, wall: WallClock): void {
  const { limits } = config;
  if (steps >= limits.maxSteps) throw new LimitsExceeded(`Step limit reached (${limits.maxSteps} steps).`);
  if (limits.maxCostUsd !== undefined && usage.costUsd >= limits.maxCostUsd) throw new LimitsExceeded(`Cost limit reached ($${usage.costUsd.toFixed(4)} of $${limits.maxCostUsd}).`);
  const tokens = usage.promptTokens + usage.completionTokens;
  if (limits.maxTotalTokens !== undefined && tokens >= limits.maxTotalTokens) {
    throw new LimitsExceeded(`Token limit reached (${tokens} of ${limits.maxTotalTokens} tokens).`);
  }
  if (wall.expired()) throw new LimitsExceeded(`Wall time limit reached (${Math.round(limits.wallTimeMs / 1000)} s).`);
}

function toOutcome(error: unknown, wall: WallClock): Outcome {
  if (error instanceof Outcome) return error;
  if (wall.expired()) return new LimitsExceeded(`Wall time limit reached.`);
  // Anything that fails once the run was cancelled (a killed search, a dropped connection) is the cancel.
  if (isAbort(error) || wall.signal.aborted) return new Cancelled();
  if (error instanceof AgentError && MODEL_FAILURES.has(error.reason)) return new ModelFailed(error.message);
  return new ModelFailed(`Unexpected error: ${error instanceof Error ? error.message : String(error)}`);
}
