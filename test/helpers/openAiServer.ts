/** A real HTTP server speaking the OpenAI chat completions protocol from a script, for tests and end-to-end runs. */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One scripted answer; `content` and `toolCalls` form the assistant message. */
export interface ScriptedReply {
  content?: string;
  toolCalls?: { id?: string; name: string; arguments: string }[];
  /** Reported usage; `null` sends none (to test estimation). Defaults to ceil(chars / 4) counts. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  finishReason?: string;
  /** OpenAI's `choices[0].logprobs.content`, sent as is. */
  logprobs?: { token: string; logprob: number; top_logprobs: { token: string; logprob: number }[] }[];
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (streaming: after the first chunk). */
  hang?: boolean;
  /** Streaming: wait this long between chunks (a slow server that keeps sending). */
  chunkDelayMs?: number;
  /**
   * Break the answer off halfway: `true` destroys the connection (streamed: after half the chunks; not
   * streamed: after half the body), `'end'` ends a stream cleanly but without a finish reason or [DONE].
   */
  truncate?: boolean | 'end';
  /** Answer with `choices: []`. */
  emptyChoices?: boolean;
  /** Reset the connection without answering. */
  reset?: boolean;
  /** Send this text as the body with status 200 instead of a completion (streamed: as one SSE event's data). */
  rawBody?: string;
  /** Send this page with status 200 and `text/html`, streamed or not (a web server or proxy where the API was meant). */
  html?: string;
}

/** A failure to send instead of a scripted reply: an HTTP status, optionally with a body (a string is sent raw) and headers. */
export type ScriptedFailure = number | { status: number; body?: unknown; headers?: Record<string, string> };

/** What the server answers. */
export interface OpenAiServerScript {
  /** Replies in order, or a function of the request body and the reply index. */
  responses?: ScriptedReply[] | ((body: ChatBody, index: number) => ScriptedReply | Promise<ScriptedReply>);
  /** The first chat requests get these failures, one each, before any reply is used; a hole lets that request through. */
  failures?: (ScriptedFailure | undefined)[];
  /** Sent with failures so that clients retry at once; default 1 ms. Set null to let the client back off. */
  retryAfterMs?: number | null;
  /** Every chat request hangs until the client gives up or the server closes. */
  hang?: boolean;
  /** Served by GET /models; the first is the model name in replies. */
  models?: string[];
  /** The `owned_by` of those models, which tells clients what server this is (vLLM says "vllm"). */
  ownedBy?: string;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Port on 127.0.0.1; default an ephemeral one. */
  port?: number;
}

/** The JSON body of a chat completions request, as received. */
export type ChatBody = Record<string, unknown> & { messages?: unknown[]; stream?: boolean };

/** One received request. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: ChatBody;
}

/** A running server: `url` is the base URL ending in /v1. */
export interface OpenAiServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a scripted OpenAI-compatible server on 127.0.0.1 with an ephemeral port. */
export async function startOpenAiServer(script: OpenAiServerScript = {}): Promise<OpenAiServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const state = { chatCalls: 0, replies: 0 };
  const server = createServer((req, res) => {
    handle(req, res, script, requests, state).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error) } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(script.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  script: OpenAiServerScript,
  requests: RecordedRequest[],
  state: { chatCalls: number; replies: number },
): Promise<void> {
  const raw = await readBody(req);
  const path = (req.url ?? '').split('?')[0];
  const models = script.models ?? ['scripted-model'];
  if (req.method === 'GET' && path === '/v1/models') {
    sendJson(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: script.ownedBy ?? 'test' })) });
    return;
  }
  if (req.method !== 'POST' || path !== '/v1/chat/completions') {
    sendJson(res, 404, { error: { message: `no route for ${req.method} ${path}` } });
    return;
  }
  const body = (raw ? JSON.parse(raw) : {}) as ChatBody;
  requests.push({ method: req.method, path, headers: req.headers, body });
  if (script.apiKey !== undefined && req.headers.authorization !== `Bearer ${script.apiKey}`) {
    sendJson(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error' } });
    return;
  }
  const call = state.chatCalls++;
  const failure = script.failures?.[call];
  if (failure !== undefined) return sendFailure(res, failure, script.retryAfterMs);
  if (script.hang) return;
  const reply = await nextReply(script, body, state.replies++);
  if (!reply) {
    sendJson(res, 400, { error: { message: `the test script has no reply number ${state.replies}` } });
    return;
  }
  if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
  if (reply.reset) {
    req.socket.resetAndDestroy();
    return;
  }
  if (reply.rawBody !== undefined) return sendRaw(res, reply.rawBody, body.stream === true);
  if (reply.html !== undefined) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(reply.html);
    return;
  }
  if (body.stream) return sendStream(res, reply, body, models[0]);
  if (reply.hang) return;
  const json = JSON.stringify(completion(reply, body, models[0]));
  if (reply.truncate) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)) });
    res.write(json.slice(0, Math.floor(json.length / 2)), () => res.destroy());
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(json);
}

async function nextReply(script: OpenAiServerScript, body: ChatBody, index: number): Promise<ScriptedReply | undefined> {
  const responses = script.responses ?? [];
  return typeof responses === 'function' ? responses(body, index) : responses[index];
}

function sendFailure(res: ServerResponse, failure: ScriptedFailure, retryAfterMs: number | null | undefined): void {
  const spec = typeof failure === 'number' ? { status: failure } : failure;
  const headers: Record<string, string> = { ...spec.headers };
  if (retryAfterMs !== null) headers['retry-after-ms'] = String(retryAfterMs ?? 1);
  const body = spec.body ?? { error: { message: `scripted failure ${spec.status}`, type: 'server_error' } };
  if (typeof body === 'string') {
    // A raw text body, like a reverse proxy's HTML error page.
    res.writeHead(spec.status, { 'content-type': 'text/html', ...headers });
    res.end(body);
    return;
  }
  sendJson(res, spec.status, body, headers);
}

function sendRaw(res: ServerResponse, text: string, stream: boolean): void {
  res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
  res.end(stream ? `data: ${text}\n\n` : text);
}

function completion(reply: ScriptedReply, body: ChatBody, model: string): Record<string, unknown> {
  const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({
    id: call.id ?? `call_${i}`,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
  const message = { role: 'assistant', content: reply.content ?? (toolCalls.length ? null : ''), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
  const usage = replyUsage(reply, body);
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model,
    choices: reply.emptyChoices ? [] : [{ index: 0, message, logprobs: reply.logprobs ? { content: reply.logprobs } : null, finish_reason: finishReason(reply) }],
    ...(usage ? { usage } : {}),
  };
}

/** Streams the reply as OpenAI does: role first, content and tool-call fragments, finish, then usage. */
async function sendStream(res: ServerResponse, reply: ScriptedReply, body: ChatBody, model: string): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const events: string[] = [];
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    events.push(`data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 0, model, choices, ...extra })}\n\n`);
  const delta = (d: Record<string, unknown>, more: Record<string, unknown> = {}) =>
    chunk(reply.emptyChoices ? [] : [{ index: 0, delta: d, finish_reason: null, ...more }]);
  delta({ role: 'assistant', content: '' });
  if (reply.hang) {
    res.write(events[0]);
    return;
  }
  // Small pieces as servers send them, but never more than about a thousand: an 80 MB reply stays fast.
  const content = reply.content ?? '';
  const pieces = split(content, Math.max(7, Math.ceil(content.length / 1000)));
  pieces.forEach((piece, i) => delta({ content: piece }, i === 0 && reply.logprobs ? { logprobs: { content: reply.logprobs } } : {}));
  (reply.toolCalls ?? []).forEach((call, index) => {
    delta({ tool_calls: [{ index, id: call.id ?? `call_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] });
    for (const piece of split(call.arguments, Math.max(5, Math.ceil(call.arguments.length / 1000)))) delta({ tool_calls: [{ index, function: { arguments: piece } }] });
  });
  if (!reply.emptyChoices) chunk([{ index: 0, delta: {}, finish_reason: finishReason(reply) }]);
  const usage = replyUsage(reply, body);
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (usage && options?.include_usage) chunk([], { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
  events.push('data: [DONE]\n\n');
  // Truncated: the first half of the content's chunks, then the connection drops (or the stream just ends).
  const sent = reply.truncate ? events.slice(0, Math.max(2, Math.ceil((pieces.length + 1) / 2))) : events;
  for (const event of sent) {
    if (reply.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, reply.chunkDelayMs));
    if (res.destroyed) return;
    res.write(event);
  }
  if (reply.truncate === true) await new Promise<void>((resolve) => res.write('', () => resolve())).then(() => res.destroy());
  else res.end();
}

function replyUsage(reply: ScriptedReply, body: ChatBody): { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined {
  if (reply.usage === null) return undefined;
  const prompt = reply.usage?.prompt_tokens ?? Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
  const completionText = (reply.content ?? '') + (reply.toolCalls ?? []).map((c) => c.name + c.arguments).join('');
  const completionTokens = reply.usage?.completion_tokens ?? Math.ceil(completionText.length / 4);
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}

function finishReason(reply: ScriptedReply): string {
  return reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop');
}

function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
