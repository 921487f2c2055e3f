/** A Model over any OpenAI-compatible chat completions endpoint (vLLM, SGLang, Ollama, llama.cpp, hosted APIs). */
import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { AgentError, ErrorReason, throwIfAborted } from '../errors.js';
import { callFailure, seconds } from './callFailure.js';
import { CallGuard } from './callGuard.js';
import { LastingFailure } from './lastingFailure.js';
import type { Message, Model, ModelRequest, ModelResponse, ToolCall, ToolSpec } from '../types.js';
import { costUsd, estimateTokens, type Pricing } from './pricing.js';
import { isHttpUrl } from '../settings/settingKinds.js';
import { SETTINGS } from '../settings/settings.js';
import { detectServer, extrasFor, PREFILL, type ServerKind } from './serverProfile.js';
import { retryState, withRetries, type RetryState } from './retries.js';
import { rootCause, ServerFetch } from './serverFetch.js';

/** How to reach and bill an OpenAI-compatible server. */
export interface OpenAiModelOptions {
  /** Base URL including the version prefix, e.g. http://127.0.0.1:8000/v1. */
  baseUrl: string;
  model: string;
  /** Sent as a Bearer token; never logged and never part of an error message. */
  apiKey?: string;
  /**
   * How long one call may wait for the server to start answering, all retries together (streamed: until the
   * response headers; not streamed: the whole answer). Default 60 s: a hung server ends the call then.
   */
  requestTimeoutMs?: number;
  /** The longest silence allowed in the middle of a streamed answer (default 60 s); a slow stream that keeps sending goes on. */
  streamIdleTimeoutMs?: number;
  /** An answer longer than this many characters is refused as broken (default 4,000,000: far beyond any 16k-token reply). */
  maxReplyChars?: number;
  /** Retries on 408/409/429/5xx and connection errors: as long as the server's Retry-After asks, else 0.5 s doubling, at most 8 s. */
  maxRetries?: number;
  /** Defaults to zero: unknown price, e.g. a local server. */
  pricing?: Pricing;
  stream?: boolean;
  /** Ask for this many top logprobs per generated token (OpenAI allows at most 20). */
  logprobs?: number;
  /** Name recorded in trajectories; defaults to `model`. */
  name?: string;
  /** Server-specific sampling fields sent with every sampled request unless the request's `extra` sets them. */
  defaultExtra?: Record<string, unknown>;
  /**
   * The kind of server (serverProfile.ts), for the spelling of the seed and how a judgement is prefilled.
   * Unknown: found from the server's /models answer at the first judgement, and plain OpenAI spelling for the rest.
   */
  server?: ServerKind;
}

/** One generated token with its log-probability and the most likely alternatives at that position. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  topLogprobs: { token: string; logprob: number }[];
}

/** A ModelResponse plus what only this backend knows. */
export interface OpenAiModelResponse extends ModelResponse {
  /** Present when logprobs were requested and the server returned them. */
  logprobs?: TokenLogprob[];
  /** True when the server sent no usage and the token counts are ceil(chars / 4) estimates. */
  usageEstimated: boolean;
}

/** Options of a judgement call, which always asks for top logprobs. */
export interface JudgeOptions {
  topLogprobs?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  /**
   * The start of the answer, e.g. `<judgement>`: where the server can continue a begun reply (PREFILL), it
   * is sent as the assistant's message and the first generated token is the one that follows it.
   */
  prefix?: string;
}

/** A judgement: every generated token's top logprobs, and the prefix they continue when the server took it. */
export type JudgeResponse = OpenAiModelResponse & { logprobs: TokenLogprob[]; prefilled?: string };

type Body = Omit<ChatCompletionCreateParamsBase, 'stream'>;

/** Defaults of the timeouts: together they end a call to a hung server within two minutes. */
export const DEFAULT_REQUEST_TIMEOUT_MS = SETTINGS.requestTimeoutSeconds.default * 1000;
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = SETTINGS.streamIdleTimeoutSeconds.default * 1000;
export const DEFAULT_MAX_REPLY_CHARS = 4_000_000;

/** The OpenAI-compatible client: native tool calls, retries, cancellation, streaming, usage and cost. */
export class OpenAiModel implements Model {
  readonly name: string;
  // ES private fields stay out of JSON.stringify and util.inspect, so a logged model never shows the key.
  readonly #client: OpenAI;
  readonly #apiKey: string | undefined;
  private readonly options: Omit<OpenAiModelOptions, 'apiKey'>;
  private readonly where: string;
  private readonly timeoutMs: number;
  private readonly idleMs: number;
  private readonly maxReplyChars: number;
  private readonly maxRetries: number;
  private readonly server = new ServerFetch();
  private detected: Promise<ServerKind> | undefined;

  constructor(options: OpenAiModelOptions) {
    const { apiKey, ...rest } = options;
    this.options = rest;
    this.#apiKey = apiKey;
    this.name = options.name ?? options.model;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.idleMs = options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
    this.maxReplyChars = options.maxReplyChars ?? DEFAULT_MAX_REPLY_CHARS;
    this.maxRetries = options.maxRetries ?? 4;
    this.where = withoutCredentials(options.baseUrl);
    validate(options, this.where, { requestTimeoutMs: this.timeoutMs, streamIdleTimeoutMs: this.idleMs, maxReplyChars: this.maxReplyChars }, this.maxRetries);
    this.#client = new OpenAI({
      baseURL: options.baseUrl,
      // The SDK refuses to start without a key; a keyless local server gets no Authorization header at all.
      apiKey: apiKey || 'unused',
      defaultHeaders: apiKey ? undefined : { Authorization: null },
      adminAPIKey: null,
      organization: null,
      project: null,
      timeout: this.timeoutMs,
      // Retried here instead (retries.ts): the SDK's wait between attempts cannot be cancelled.
      maxRetries: 0,
      fetch: this.server.fetch,
      logLevel: 'off',
    });
  }

  /** Sends one chat request and returns the text, the native tool calls and the usage. */
  complete(request: ModelRequest): Promise<OpenAiModelResponse> {
    return this.call(request, this.options.logprobs);
  }

  /** A greedy call that returns the top logprobs of every generated token, for P(YES) of an LLM judge. */
  async judge(messages: Message[], options: JudgeOptions = {}): Promise<JudgeResponse> {
    const style = options.prefix ? PREFILL[await this.serverKind(options.signal)] : undefined;
    const sent = style ? [...messages, { role: 'assistant' as const, content: options.prefix! }] : messages;
    const extra = style === 'continue_final_message' ? { continue_final_message: true, add_generation_prompt: false } : undefined;
    const sampling = { temperature: 0, maxTokens: options.maxTokens, ...(extra ? { extra } : {}) };
    const response = await this.call({ messages: sent, sampling, signal: options.signal }, options.topLogprobs ?? 20);
    return { ...response, logprobs: response.logprobs ?? [], ...(style ? { prefilled: options.prefix } : {}) };
  }

  /** The server's kind: as configured, else asked once from its /models answer. */
  private serverKind(signal?: AbortSignal): Promise<ServerKind> {
    if (this.options.server) return Promise.resolve(this.options.server);
    this.detected ??= detectServer(this.options.baseUrl, this.#apiKey, signal);
    return this.detected;
  }

  private async call(request: ModelRequest, topLogprobs: number | undefined): Promise<OpenAiModelResponse> {
    throwIfAborted(request.signal);
    const body = this.body(request, topLogprobs);
    const guard = new CallGuard(request.signal, this.timeoutMs);
    const retries = retryState();
    try {
      const work = this.options.stream ? this.streamed(body, request, guard, retries) : this.single(body, request, guard, retries);
      return await raceAbort(work, guard.signal);
    } catch (error) {
      throw callFailure(error, { where: this.where, model: this.options.model, timeoutMs: this.timeoutMs, signal: request.signal,
        guard, retries, unreached: this.server.unreachedSince(guard.began), scrub: (m) => this.scrub(m) });
    } finally {
      guard.dispose();
    }
  }

  private body(request: ModelRequest, topLogprobs: number | undefined): Body {
    const s = request.sampling ?? {};
    const body: Record<string, unknown> = {
      temperature: s.temperature,
      top_p: s.topP,
      max_tokens: s.maxTokens,
      stop: s.stop?.length ? s.stop : undefined,
      ...(s.seed === undefined ? {} : extrasFor(this.options.server ?? 'other', { seed: s.seed })),
      ...(topLogprobs ? { logprobs: true, top_logprobs: topLogprobs } : {}),
      // Server-specific knobs (vLLM's top_k, repetition_penalty) go through untouched; a greedy call needs none
      ...(s.temperature === 0 ? {} : this.options.defaultExtra),
      ...s.extra,
      model: this.options.model,
      messages: request.messages.map(toOpenAiMessage),
    };
    if (request.tools?.length) body.tools = request.tools.map(toOpenAiTool);
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    return body as unknown as Body;
  }

  private async single(body: Body, request: ModelRequest, guard: CallGuard, retries: RetryState): Promise<OpenAiModelResponse> {
    const completion: ChatCompletion = await this.attempts(guard, retries, (headers) =>
      this.#client.chat.completions.create({ ...body, stream: false }, { signal: guard.signal, headers }));
    guard.started();
    const choice = completion.choices?.[0];
    if (!choice) this.throwIfForeign(guard, 'a chat request', 'JSON');
    if (!choice) throw new AgentError(ErrorReason.ModelUnavailable, `The model server at ${this.where} answered without a choice (an empty "choices" list).`);
    const length = (choice.message.content?.length ?? 0) + (choice.message.tool_calls ?? []).reduce((n, c) => n + JSON.stringify(c).length, 0);
    if (length > this.maxReplyChars) throw this.tooLarge(length, request);
    const toolCalls = (choice.message.tool_calls ?? []).flatMap((call, i) =>
      call.type === 'function' ? [{ id: call.id || `call_${i}`, name: call.function.name, arguments: call.function.arguments ?? '' }] : [],
    );
    const logprobs = choice.logprobs?.content?.map(toTokenLogprob);
    const content = choice.message.content ?? '';
    return this.response(request, content, toolCalls, completion.usage, choice.finish_reason ?? undefined, logprobs);
  }

  private async streamed(body: Body, request: ModelRequest, guard: CallGuard, retries: RetryState): Promise<OpenAiModelResponse> {
    const stream = await this.attempts(guard, retries, (headers) =>
      this.#client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { signal: guard.signal, headers }));
    guard.started();
    const acc = new ChunkAccumulator();
    let stopped: 'stalled' | 'too_large' | undefined;
    const stop = (why: 'stalled' | 'too_large') => {
      stopped = why;
      stream.controller.abort();
    };
    let timer = setTimeout(() => stop('stalled'), this.idleMs);
    try {
      for await (const chunk of stream) {
        clearTimeout(timer);
        timer = setTimeout(() => stop('stalled'), this.idleMs);
        acc.add(chunk);
        if (acc.length > this.maxReplyChars) stop('too_large');
      }
    } catch (error) {
      // A connection that breaks after the answer began: not something a retry of the SDK covers.
      if (!request.signal?.aborted && stopped === undefined && acc.chunks > 0) throw this.truncated(acc, `the connection failed: ${rootCause(error as Error)}`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    // The SDK ends an aborted stream quietly, so an abort must be detected here or it would look like an answer.
    throwIfAborted(request.signal);
    if (stopped === 'too_large') throw this.tooLarge(acc.length, request);
    if (stopped === 'stalled') {
      throw new AgentError(ErrorReason.ModelUnavailable, `The model server at ${this.where} stopped sending for ${seconds(this.idleMs)} s in the middle of an answer (after ${acc.chunks} chunks); check that it is not overloaded, or raise the stream idle timeout.`);
    }
    if (acc.chunks === 0) this.throwIfForeign(guard, 'a streamed chat request', 'server-sent events');
    if (!acc.sawChoice) throw new AgentError(ErrorReason.ModelUnavailable, `The model server at ${this.where} streamed no choice at all (${acc.chunks} chunks without "choices").`);
    if (acc.finishReason === undefined) throw this.truncated(acc, 'the stream ended without a finish reason');
    return this.response(request, acc.content, acc.toolCalls(), acc.usage, acc.finishReason, acc.logprobs);
  }

  /** Runs one request with this model's retries; each attempt tells the server which retry it is, as the SDK does. */
  private attempts<T>(guard: CallGuard, state: RetryState, request: (headers: Record<string, string>) => Promise<T>): Promise<T> {
    return withRetries((retry) => request({ 'X-Stainless-Retry-Count': String(retry) }),
      { maxRetries: this.maxRetries, signal: guard.signal, deadline: guard.began + this.timeoutMs, state });
  }

  private truncated(acc: ChunkAccumulator, how: string): AgentError {
    return new AgentError(ErrorReason.ModelTruncated, `The model server at ${this.where} cut its answer off after ${acc.chunks} chunks `
      + `(${acc.length} characters): ${how}. Check the server's log; a proxy in between may limit response time or size.`);
  }

  private tooLarge(length: number, request: ModelRequest): AgentError {
    const asked = request.sampling?.maxTokens ? `, for at most ${request.sampling.maxTokens} tokens` : '';
    return new AgentError(ErrorReason.ModelReplyTooLarge, `The model server at ${this.where} sent an answer of more than ${this.maxReplyChars} characters `
      + `(${length} so far${asked}); it was refused. Check the server: a model reply cannot be that long.`);
  }

  private response(
    request: ModelRequest,
    content: string,
    toolCalls: ToolCall[],
    raw: CompletionUsage | null | undefined,
    finishReason: string | undefined,
    logprobs: TokenLogprob[] | undefined,
  ): OpenAiModelResponse {
    const measured = raw && typeof raw.prompt_tokens === 'number' && typeof raw.completion_tokens === 'number';
    const promptTokens = measured ? raw.prompt_tokens : estimatePrompt(request);
    const completionTokens = measured ? raw.completion_tokens : estimateTokens(content + toolCalls.map((c) => c.name + c.arguments).join(''));
    const usage = { promptTokens, completionTokens, costUsd: costUsd(promptTokens, completionTokens, this.options.pricing) };
    return { content, toolCalls, usage, finishReason, usageEstimated: !measured, ...(logprobs ? { logprobs } : {}) };
  }

  // A body of another kind than asked for, received during this call: named, with how it begins.
  private throwIfForeign(guard: CallGuard, request: string, expected: string): void {
    const page = this.server.foreignSince(guard.began);
    if (!page) return;
    throw new LastingFailure(ErrorReason.ModelUnavailable, `The server at ${this.where} answered ${request} with ${page.contentType}, not ${expected}`
      + `${page.start ? ` (it begins "${page.start}")` : ''}: check that the base URL is the OpenAI-compatible API (it usually ends in /v1).`);
  }

  /** A server may echo the key back (a bad-key message, a proxy's debug page); it must never reach a log. */
  private scrub(message: string): string {
    const key = this.#apiKey;
    return key ? message.split(key).join('[redacted]') : message;
  }
}

/** Assembles streamed deltas; tool calls arrive as fragments keyed by their index. */
class ChunkAccumulator {
  content = '';
  chunks = 0;
  /** Characters received, content and tool-call arguments together. */
  length = 0;
  sawChoice = false;
  usage: CompletionUsage | undefined;
  finishReason: string | undefined;
  logprobs: TokenLogprob[] | undefined;
  private readonly calls = new Map<number, ToolCall>();

  add(chunk: ChatCompletionChunk): void {
    this.chunks++;
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    this.sawChoice = true;
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    if (choice.delta?.content) {
      this.content += choice.delta.content;
      this.length += choice.delta.content.length;
    }
    if (choice.logprobs?.content) (this.logprobs ??= []).push(...choice.logprobs.content.map(toTokenLogprob));
    for (const delta of choice.delta?.tool_calls ?? []) {
      const call = this.calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name = delta.function.name;
      if (delta.function?.arguments) {
        call.arguments += delta.function.arguments;
        this.length += delta.function.arguments.length;
      }
      this.calls.set(delta.index, call);
    }
  }

  toolCalls(): ToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
  }
}

function toOpenAiMessage(message: Message): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'tool':
      if (!message.toolCallId) {
        throw new AgentError(ErrorReason.InvalidArgument, 'A tool message needs the toolCallId of the call it answers.');
      }
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId };
    case 'assistant': {
      if (!message.toolCalls?.length) return { role: 'assistant', content: message.content };
      const tool_calls = message.toolCalls.map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { name: call.name, arguments: call.arguments },
      }));
      // OpenAI's shape for a pure tool call is null content; some servers reject an empty string there.
      return { role: 'assistant', content: message.content || null, tool_calls };
    }
  }
}

function toOpenAiTool(tool: ToolSpec): ChatCompletionTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } } };
}

function toTokenLogprob(entry: { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] }): TokenLogprob {
  return {
    token: entry.token,
    logprob: entry.logprob,
    topLogprobs: (entry.top_logprobs ?? []).map((top) => ({ token: top.token, logprob: top.logprob })),
  };
}

function estimatePrompt(request: ModelRequest): number {
  const messages = request.messages.map((m) => m.content + (m.toolCalls ?? []).map((c) => c.name + c.arguments).join(''));
  return estimateTokens(messages.join('') + (request.tools ? JSON.stringify(request.tools) : ''));
}

/** Rejects as soon as the signal fires, whatever the SDK is still doing (a body that is read, a stream that is opened). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AgentError(ErrorReason.Cancelled, 'model call cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Catches bad settings at construction, where the SDK would only fail at the first call with a vaguer message. */
function validate(options: OpenAiModelOptions, where: string, positive: Record<string, number>, maxRetries: number): void {
  const bad = (what: string) => new AgentError(ErrorReason.Config, `Model settings: ${what}`);
  if (!isHttpUrl(options.baseUrl)) {
    throw bad(`the base URL "${where}" is not an http(s) URL (expected something like http://127.0.0.1:8000/v1).`);
  }
  if (!options.model) throw bad('the model name is empty.');
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isInteger(value) || value <= 0) throw bad(`${name} must be a positive integer, got ${value}.`);
  }
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw bad(`maxRetries must be a non-negative integer, got ${maxRetries}.`);
}

function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
