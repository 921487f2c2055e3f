import { AgentError, isAbort, LimitsExceeded } from '../errors.js';
import type { Tool, ToolContext } from '../tools/tool.js';
import type { Message, Model, ModelResponse, Step, Usage } from '../types.js';
import { condense, estimateTokens } from './condense.js';
import type { AgentConfig } from './config.js';
import { parseAction } from './parseAction.js';
import type { WallClock } from './wallClock.js';

/** The mutable part of a rollout that a step reads and updates. */
export interface LoopState {
  messages: Message[];
  steps: Step[];
  usage: Usage;
  /** Measured from the server's prompt token counts; starts as a guess. */
  tokensPerChar: number;
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
  const budget = limits.maxContextTokens - Math.min(limits.maxNewTokens, Math.floor(limits.maxContextTokens / 4));
  const sent = condense(state.messages, budget, state.tokensPerChar);
  const estimated = estimateTokens(sent, state.tokensPerChar);
  if (estimated > budget) throw new LimitsExceeded(`Context limit reached (about ${estimated} of ${limits.maxContextTokens} tokens after condensing).`);
  const modelStart = Date.now();
  const response = await model.complete({
    messages: sent,
    tools: config.format === 'tools' ? tools.map((t) => t.spec) : undefined,
    sampling: { ...config.sampling, maxTokens: Math.min(limits.maxNewTokens, limits.maxContextTokens - estimated) },
    signal: wall.signal,
  });
  const modelMs = Date.now() - modelStart;
  addUsage(state, response, sent);
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

function addUsage(state: LoopState, response: ModelResponse, sent: Message[]): void {
  state.usage.promptTokens += response.usage.promptTokens;
  state.usage.completionTokens += response.usage.completionTokens;
  state.usage.costUsd += response.usage.costUsd;
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

