import { AgentError, isAbort, LimitsExceeded } from '../errors.js';
import { ContextOverflowError } from '../llm/contextOverflow.js';
import type { Tool, ToolContext } from '../tools/tool.js';
import type { Message, Model, ModelResponse, Step, Usage } from '../types.js';
import { condense, estimateTokens } from './condense.js';
import type { AgentConfig } from './config.js';
import { parseAction } from './parseAction.js';
import type { WallClock } from './wallClock.js';
import { addUsage } from '../usage.js';

/** The mutable part of a rollout that a step reads and updates. */
export interface LoopState {
  messages: Message[];
  steps: Step[];
  usage: Usage;
  /** Measured from the server's prompt token counts; starts as a guess. */
  tokensPerChar: number;
  /** The server's context window, once a refusal reported it: smaller than the configured limit. */
  serverContextTokens?: number;
}

/** One finished step: its record, the messages it appends, and the finish request if any. */
export interface StepRecord {
  step: Step;
  messages: Message[];
  finish?: { result: string };
}

/** One step: query the model with a context that fits, then execute the one action it chose. */
export async function runStep(input: {
  state: LoopState; config: AgentConfig; model: Model; tools: readonly Tool[]; context: ToolContext; wall: WallClock;
}): Promise<StepRecord> {
  const { state, config, model, tools, context, wall } = input;
  const { limits } = config;
  const index = state.steps.length;
  const modelStart = Date.now();
  const { response, sent } = await query(state, config, model, tools, wall.signal);
  const modelMs = Date.now() - modelStart;
  countUsage(state, response, sent);
  const parsed = parseAction(response, config.format, tools);
  const toolStart = Date.now();
  let observation: string;
  let finish: { result: string } | undefined;
  if (!parsed.ok) {
    observation = `ERROR: ${parsed.error}`;
  } else {
    try {
      const result = await parsed.tool.run(parsed.args, context);
      observation = result.observation;
      finish = result.finish;
    } catch (error) {
      if (isAbort(error) || wall.signal.aborted) throw error;
      observation = `ERROR: ${error instanceof AgentError ? error.message : `unexpected failure: ${String(error)}`}`;
    }
  }
  const toolMs = Date.now() - toolStart;
  if (!finish) observation += `\nSteps remaining: ${limits.maxSteps - index - 1}`;
  const step: Step = {
    index, thought: parsed.thought, action: parsed.ok ? { tool: parsed.tool.spec.name, args: parsed.args } : null,
    observation, formatError: !parsed.ok, usage: response.usage, modelMs, toolMs,
  };
  return { step, messages: turnMessages(response, config.format, observation), finish };
}

/** The text format's calls end at `</function>`: without the stop the model writes the observation itself. */
const TEXT_STOP = ['</function>'];
/** Refusals for a too long context answered by condensing again within one step. */
const OVERFLOW_RETRIES = 2;

/**
 * Asks the model with a context condensed to fit. A server whose window is smaller than the configured
 * limit refuses the request; its reported size (or, unreported, three quarters of the limit) becomes the
 * limit and the context is condensed again. The issue is never condensed: when it alone does not fit,
 * the rollout ends with a limit outcome that says so.
 */
async function query(state: LoopState, config: AgentConfig, model: Model, tools: readonly Tool[], signal: AbortSignal): Promise<{ response: ModelResponse; sent: Message[] }> {
  const { limits } = config;
  for (let attempt = 0; ; attempt++) {
    const limit = Math.min(limits.maxContextTokens, state.serverContextTokens ?? Infinity);
    const budget = contextBudget(limit, limits.maxNewTokens);
    const sent = condense(state.messages, budget, state.tokensPerChar);
    const estimated = estimateTokens(sent, state.tokensPerChar);
    const server = state.serverContextTokens ? `; the server's context window is ${state.serverContextTokens} tokens` : '';
    if (estimated > budget) throw new LimitsExceeded(`Context limit reached (about ${estimated} of ${limit} tokens after condensing${server}).`);
    try {
      const response = await model.complete({
        messages: sent,
        tools: config.format === 'tools' ? tools.map((t) => t.spec) : undefined,
        sampling: { ...config.sampling, maxTokens: Math.min(limits.maxNewTokens, limit - estimated), ...(config.format === 'text' ? { stop: TEXT_STOP } : {}) },
        signal,
      });
      return { response: config.format === 'text' ? closeStoppedCall(response) : response, sent };
    } catch (error) {
      if (!(error instanceof ContextOverflowError)) throw error;
      if (attempt >= OVERFLOW_RETRIES) throw new LimitsExceeded(`Context limit reached: ${error.message}`);
      learnContext(state, error, sent, limit);
    }
  }
}

/** Tokens of a context of `limit` tokens that the prompt may fill: the rest is left for the answer. */
export function contextBudget(limit: number, maxNewTokens: number): number {
  return limit - Math.min(maxNewTokens, Math.floor(limit / 4));
}

function learnContext(state: LoopState, error: ContextOverflowError, sent: Message[], limit: number): void {
  const chars = sent.reduce((n, m) => n + m.content.length, 0);
  if (error.promptTokens && chars > 0) state.tokensPerChar = Math.max(state.tokensPerChar, error.promptTokens / chars);
  state.serverContextTokens = error.contextTokens && error.contextTokens < limit ? error.contextTokens : Math.floor(limit * 0.75);
}

/** A server stopped at `</function>` leaves it out; the call was complete, so the turn is recorded with it. */
function closeStoppedCall(response: ModelResponse): ModelResponse {
  const open = response.content.lastIndexOf('<function');
  if (response.finishReason !== 'stop' || open < 0 || response.content.indexOf('</function>', open) >= 0) return response;
  return { ...response, content: `${response.content}</function>` };
}

function countUsage(state: LoopState, response: ModelResponse, sent: Message[]): void {
  addUsage(state.usage, response.usage);
  const chars = sent.reduce((n, m) => n + m.content.length, 0);
  if (response.usage.promptTokens > 0 && chars > 0) state.tokensPerChar = Math.max(0.1, response.usage.promptTokens / chars);
}

// Native tool calls must each get a tool message; only the first is executed when there are several.
function turnMessages(response: ModelResponse, format: AgentConfig['format'], observation: string): Message[] {
  if (format === 'text' || response.toolCalls.length === 0) {
    const assistant: Message = { role: 'assistant', content: response.content };
    return [assistant, { role: 'user', content: observation }];
  }
  const assistant: Message = { role: 'assistant', content: response.content, toolCalls: response.toolCalls };
  return [assistant, ...response.toolCalls.map((call): Message => ({ role: 'tool', toolCallId: call.id, content: observation }))];
}

