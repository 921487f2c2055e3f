import { AgentError, isAbort, LimitsExceeded } from '../errors.js';
import { ContextOverflowError } from '../llm/contextOverflow.js';
import { settingNames } from '../settings/resolveSettings.js';
import type { Tool, ToolContext } from '../tools/tool.js';
import type { Limits, Message, Model, ModelResponse, Step, Usage } from '../types.js';
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

/** An answer without a usable action that the server cut at the request's token limit, and what set that limit. */
export interface CutAnswer {
  tokens: number;
  /** The limit per answer, or the room the context window left for one. */
  by: 'maxNewTokens' | 'maxContextTokens';
}

/** One finished step: its record, the messages it appends, and the finish request if any. */
export interface StepRecord {
  step: Step;
  messages: Message[];
  finish?: { result: string };
  /** Set when the answer had no usable action because it was cut off at the token limit. */
  cut?: CutAnswer;
}

/** One step: query the model with a context that fits, then execute the one action it chose. */
export async function runStep(input: {
  state: LoopState; config: AgentConfig; model: Model; tools: readonly Tool[]; context: ToolContext; wall: WallClock;
}): Promise<StepRecord> {
  const { state, config, model, tools, context, wall } = input;
  const { limits } = config;
  const index = state.steps.length;
  const modelStart = Date.now();
  const { response, sent, maxTokens } = await query(state, config, model, tools, wall.signal);
  const modelMs = Date.now() - modelStart;
  countUsage(state, response, sent);
  const parsed = parseAction(response, config.format, tools);
  // Cut off before the action was whole: the model's format was not at fault, and saying so is what helps it.
  const cut: CutAnswer | undefined = !parsed.ok && response.finishReason === 'length'
    ? { tokens: maxTokens, by: maxTokens < limits.maxNewTokens ? 'maxContextTokens' : 'maxNewTokens' } : undefined;
  const toolStart = Date.now();
  let observation: string;
  let finish: { result: string } | undefined;
  if (!parsed.ok) {
    observation = `ERROR: ${cut ? cutObservation(cut) : parsed.error}`;
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
    observation, formatError: !parsed.ok, ...(cut ? { cut: true as const } : {}), usage: response.usage, modelMs, toolMs,
  };
  return { step, messages: turnMessages(response, config.format, observation), finish, ...(cut ? { cut } : {}) };
}

function cutObservation(cut: CutAnswer): string {
  const limit = cut.by === 'maxNewTokens' ? `the most one answer may have (${settingNames('maxNewTokens')})` : 'all the room the context left for an answer';
  return `The answer was cut off at ${cut.tokens} tokens, ${limit}, before its action was complete. `
    + 'Write less before the action, and split a long edit or file into smaller ones.';
}

/** How a step without an action is named in progress lines and the review panel. */
export function noActionLabel(step: Pick<Step, 'cut'>): string {
  return step.cut ? 'answer cut off at the token limit' : 'malformed action';
}

/** Why a rollout whose last unusable answer was cut off stops: the limit that cut it, and the setting that raises it. */
export function cutLimitMessage(cut: CutAnswer, answers: number, limits: Limits): string {
  const raise = cut.by === 'maxNewTokens' ? `raise ${settingNames('maxNewTokens')} to allow longer answers`
    : `the context window (${limits.maxContextTokens} tokens) left no more for an answer; raise ${settingNames('maxContextTokens')} if the model's window is larger`;
  return `Answer length limit reached: ${answers} answers in a row without a usable action, the last cut off at ${cut.tokens} tokens before its action was complete; ${raise}.`;
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
async function query(state: LoopState, config: AgentConfig, model: Model, tools: readonly Tool[], signal: AbortSignal): Promise<{ response: ModelResponse; sent: Message[]; maxTokens: number }> {
  const { limits } = config;
  for (let attempt = 0; ; attempt++) {
    const limit = Math.min(limits.maxContextTokens, state.serverContextTokens ?? Infinity);
    const budget = contextBudget(limit, limits.maxNewTokens);
    const sent = condense(state.messages, budget, state.tokensPerChar);
    const estimated = estimateTokens(sent, state.tokensPerChar);
    const server = state.serverContextTokens ? `; the server's context window is ${state.serverContextTokens} tokens` : '';
    if (estimated > budget) throw new LimitsExceeded(`Context limit reached (about ${estimated} of ${limit} tokens after condensing${server}).`);
    const maxTokens = Math.min(limits.maxNewTokens, limit - estimated);
    try {
      const response = await model.complete({
        messages: sent,
        tools: config.format === 'tools' ? tools.map((t) => t.spec) : undefined,
        sampling: { ...config.sampling, maxTokens, ...(config.format === 'text' ? { stop: TEXT_STOP } : {}) },
        signal,
      });
      return { response: config.format === 'text' ? closeStoppedCall(response) : response, sent, maxTokens };
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

