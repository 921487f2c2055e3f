/** A Model that replays a fixed script of answers: deterministic agent runs for tests and demos. */
import { readFile } from 'node:fs/promises';
import { AgentError, ErrorReason, throwIfAborted } from '../errors.js';
import type { Message, Model, ModelRequest, ModelResponse, ToolCall, ToolSpec, SamplingParams, Usage } from '../types.js';
import { estimateTokens } from './pricing.js';

/** One scripted answer; usage defaults to ceil(chars / 4) estimates at zero cost. */
export interface ScriptedAnswer {
  content: string;
  toolCalls?: ToolCall[];
  usage?: Partial<Usage>;
  finishReason?: string;
}

/** A script step: a fixed answer, or one computed from the request and the step's index. */
export type ScriptStep = ScriptedAnswer | ((request: ModelRequest, index: number) => ScriptedAnswer | Promise<ScriptedAnswer>);

/** Options of a scripted model. */
export interface ScriptedModelOptions {
  /** Recorded in trajectories; default "scripted". */
  name?: string;
  /** Wait this long before every answer, honouring the request's AbortSignal. */
  delayMs?: number;
}

/** A request as the scripted model saw it, copied so later changes by the caller do not alter it. */
export interface RecordedModelRequest {
  messages: Message[];
  tools?: ToolSpec[];
  sampling?: SamplingParams;
}

/**
 * Replays its steps in call order. A call beyond the end throws AgentError(ModelRejected): the script is
 * finished for good, so it must not look like a transient outage (ModelUnavailable) that a caller retries.
 * A cancelled call still uses up its step, so step numbers always equal call numbers.
 */
export class ScriptedModel implements Model {
  readonly name: string;
  /** Every request received, in call order. */
  readonly requests: RecordedModelRequest[] = [];
  private readonly delayMs: number;

  constructor(
    private readonly steps: ScriptStep[],
    options: ScriptedModelOptions = {},
  ) {
    this.name = options.name ?? 'scripted';
    this.delayMs = options.delayMs ?? 0;
  }

  /** Loads `{ "model": "name", "delayMs"?: n, "responses": [{ "content", "toolCalls"?, "usage"? }] }`. */
  static async fromFile(path: string, options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new AgentError(ErrorReason.Config, `Cannot read the model script ${path}: ${(error as Error).message}`, { cause: error });
    }
    const file = parsed as { model?: unknown; delayMs?: unknown; responses?: unknown };
    if (!file || typeof file !== 'object' || !Array.isArray(file.responses)) {
      throw new AgentError(ErrorReason.Config, `The model script ${path} needs a "responses" array.`);
    }
    const steps = file.responses.map((entry, i) => parseAnswer(entry, i, `${path}: responses[${i}]`));
    return new ScriptedModel(steps, {
      name: options.name ?? (typeof file.model === 'string' ? file.model : undefined),
      delayMs: options.delayMs ?? (typeof file.delayMs === 'number' ? file.delayMs : undefined),
    });
  }

  /** A fresh replay of the same script, for another rollout. */
  fork(): ScriptedModel {
    return new ScriptedModel(this.steps, { name: this.name, delayMs: this.delayMs });
  }

  /** Steps not yet used. */
  get remaining(): number {
    return Math.max(0, this.steps.length - this.requests.length);
  }

  /** Answers with the next step of the script. */
  async complete(request: ModelRequest): Promise<ModelResponse> {
    throwIfAborted(request.signal);
    const index = this.requests.length;
    this.requests.push(structuredClone({ messages: request.messages, tools: request.tools, sampling: request.sampling }));
    if (this.delayMs > 0) await sleep(this.delayMs, request.signal);
    const step = this.steps[index];
    if (step === undefined) {
      throw new AgentError(ErrorReason.ModelRejected, `The scripted model "${this.name}" has no answer for call ${index + 1}: its script has ${this.steps.length} step(s).`);
    }
    const answer = typeof step === 'function' ? await step(request, index) : step;
    throwIfAborted(request.signal);
    return toResponse(answer, request);
  }
}

function toResponse(answer: ScriptedAnswer, request: ModelRequest): ModelResponse {
  const toolCalls = (answer.toolCalls ?? []).map((call) => ({ ...call }));
  const prompt = request.messages.map((m) => m.content).join('');
  const completion = answer.content + toolCalls.map((c) => c.name + c.arguments).join('');
  const usage: Usage = {
    promptTokens: answer.usage?.promptTokens ?? estimateTokens(prompt),
    completionTokens: answer.usage?.completionTokens ?? estimateTokens(completion),
    costUsd: answer.usage?.costUsd ?? 0,
  };
  return { content: answer.content, toolCalls, usage, finishReason: answer.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop') };
}

function parseAnswer(entry: unknown, index: number, where: string): ScriptedAnswer {
  const e = entry as { content?: unknown; toolCalls?: unknown; usage?: unknown; finishReason?: unknown } | null;
  if (!e || typeof e !== 'object' || typeof e.content !== 'string') {
    throw new AgentError(ErrorReason.Config, `${where} needs a string "content".`);
  }
  if (e.toolCalls !== undefined && !Array.isArray(e.toolCalls)) {
    throw new AgentError(ErrorReason.Config, `${where}: "toolCalls" must be an array.`);
  }
  const toolCalls = ((e.toolCalls ?? []) as unknown[]).map((call, j) => parseToolCall(call, `call_${index}_${j}`, `${where}.toolCalls[${j}]`));
  return {
    content: e.content,
    ...(toolCalls.length ? { toolCalls } : {}),
    ...(e.usage && typeof e.usage === 'object' ? { usage: e.usage as Partial<Usage> } : {}),
    ...(typeof e.finishReason === 'string' ? { finishReason: e.finishReason } : {}),
  };
}

function parseToolCall(call: unknown, fallbackId: string, where: string): ToolCall {
  const c = call as { id?: unknown; name?: unknown; arguments?: unknown } | null;
  if (!c || typeof c !== 'object' || typeof c.name !== 'string') {
    throw new AgentError(ErrorReason.Config, `${where} needs a string "name".`);
  }
  // Arguments may be written as an object in a hand-made script; the model contract carries raw JSON text.
  const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {});
  return { id: typeof c.id === 'string' ? c.id : fallbackId, name: c.name, arguments: args };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AgentError(ErrorReason.Cancelled, 'model call cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
