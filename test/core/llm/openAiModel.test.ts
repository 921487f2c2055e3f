import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { OpenAiModel, type OpenAiModelOptions } from '../../../src/core/llm/openAiModel.js';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { ContextOverflowError } from '../../../src/core/llm/contextOverflow.js';
import type { Message, ToolSpec } from '../../../src/core/types.js';
import { freePort } from '../../helpers/freePort.js';
import { startOpenAiServer, type OpenAiServer, type OpenAiServerScript } from '../../helpers/openAiServer.js';

const servers: OpenAiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(script: OpenAiServerScript): Promise<OpenAiServer> {
  const server = await startOpenAiServer(script);
  servers.push(server);
  return server;
}

function model(server: { url: string }, options: Partial<OpenAiModelOptions> = {}): OpenAiModel {
  return new OpenAiModel({ baseUrl: server.url, model: 'scripted-model', maxRetries: 4, ...options });
}

async function failure(promise: Promise<unknown>): Promise<AgentError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

const user = (content: string): Message => ({ role: 'user', content });

const editorTool: ToolSpec = {
  name: 'file_editor',
  description: 'View and edit files',
  parameters: {
    type: 'object',
    properties: { command: { type: 'string', description: 'what to do', enum: ['view', 'create'] }, path: { type: 'string', description: 'file' } },
    required: ['command', 'path'],
  },
};

describe('OpenAiModel over a real local server', () => {
  it('returns a plain text answer with measured usage', async () => {
    const server = await serve({ responses: [{ content: 'Hello there.', usage: { prompt_tokens: 12, completion_tokens: 3 } }] });
    const response = await model(server).complete({ messages: [{ role: 'system', content: 'Be brief.' }, user('Hi')] });
    expect(response.content).toBe('Hello there.');
    expect(response.toolCalls).toEqual([]);
    expect(response.finishReason).toBe('stop');
    expect(response.usage).toEqual({ promptTokens: 12, completionTokens: 3, costUsd: 0 });
    expect(response.usageEstimated).toBe(false);
    expect(server.requests).toHaveLength(1);
    const body = server.requests[0].body;
    expect(body.model).toBe('scripted-model');
    expect(body.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('temperature');
    expect(body.stream).toBe(false);
  });

  it('round-trips native tool calls and maps tool messages', async () => {
    const server = await serve({
      responses: [
        { content: '', toolCalls: [{ id: 'call_a', name: 'file_editor', arguments: '{"command":"view","path":"a.py"}' }] },
        { content: 'Done.' },
      ],
    });
    const llm = model(server);
    const first = await llm.complete({ messages: [user('Look at a.py')], tools: [editorTool] });
    expect(first.toolCalls).toEqual([{ id: 'call_a', name: 'file_editor', arguments: '{"command":"view","path":"a.py"}' }]);
    expect(first.finishReason).toBe('tool_calls');
    expect(first.content).toBe('');
    const history: Message[] = [
      user('Look at a.py'),
      { role: 'assistant', content: first.content, toolCalls: first.toolCalls },
      { role: 'tool', content: 'print(1)', toolCallId: 'call_a' },
    ];
    const second = await llm.complete({ messages: history, tools: [editorTool] });
    expect(second.content).toBe('Done.');
    expect(server.requests[0].body.tools).toEqual([
      { type: 'function', function: { name: 'file_editor', description: 'View and edit files', parameters: editorTool.parameters } },
    ]);
    expect(server.requests[1].body.messages).toEqual([
      { role: 'user', content: 'Look at a.py' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'file_editor', arguments: '{"command":"view","path":"a.py"}' } }] },
      { role: 'tool', content: 'print(1)', tool_call_id: 'call_a' },
    ]);
  });

  it('refuses a tool message without toolCallId before sending anything', async () => {
    const server = await serve({ responses: [{ content: 'x' }] });
    const error = await failure(model(server).complete({ messages: [user('a'), { role: 'tool', content: 'out' }] }));
    expect(error.reason).toBe(ErrorReason.InvalidArgument);
    expect(server.requests).toHaveLength(0);
  });

  it('sends sampling parameters and passes extra parameters through as is', async () => {
    const server = await serve({ responses: [{ content: 'ok' }] });
    await model(server).complete({
      messages: [user('Hi')],
      sampling: { temperature: 0.7, topP: 0.8, maxTokens: 256, seed: 42, extra: { top_k: 20, repetition_penalty: 1.05 } },
    });
    const body = server.requests[0].body;
    expect(body).toMatchObject({ temperature: 0.7, top_p: 0.8, max_tokens: 256, seed: 42, top_k: 20, repetition_penalty: 1.05 });
    expect(body.model).toBe('scripted-model');
  });

  it('assembles streamed content and tool-call deltas by index', async () => {
    const args0 = '{"command":"view","path":"src/some/long/file/name.py"}';
    const args1 = '{"cmd":"python -m pytest -x tests/test_thing.py"}';
    const server = await serve({
      responses: [{
        content: 'I will look at the file and run the tests.',
        toolCalls: [{ id: 'call_0', name: 'file_editor', arguments: args0 }, { id: 'call_1', name: 'execute_bash', arguments: args1 }],
        usage: { prompt_tokens: 40, completion_tokens: 30 },
      }],
    });
    const response = await model(server, { stream: true }).complete({ messages: [user('fix it')], tools: [editorTool] });
    expect(response.content).toBe('I will look at the file and run the tests.');
    expect(response.toolCalls).toEqual([
      { id: 'call_0', name: 'file_editor', arguments: args0 },
      { id: 'call_1', name: 'execute_bash', arguments: args1 },
    ]);
    expect(response.finishReason).toBe('tool_calls');
    expect(response.usage).toMatchObject({ promptTokens: 40, completionTokens: 30 });
    expect(response.usageEstimated).toBe(false);
    expect(server.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('estimates usage as ceil(chars / 4) when a stream reports none', async () => {
    const server = await serve({ responses: [{ content: 'abcdefghij', usage: null }] });
    const messages = [user('0123456789012')];
    const response = await model(server, { stream: true }).complete({ messages });
    expect(response.content).toBe('abcdefghij');
    expect(response.usage).toEqual({ promptTokens: 4, completionTokens: 3, costUsd: 0 });
    expect(response.usageEstimated).toBe(true);
  });

  it('prices measured usage in USD per million tokens', async () => {
    const server = await serve({ responses: [{ content: 'ok', usage: { prompt_tokens: 1000, completion_tokens: 2000 } }] });
    const response = await model(server, { pricing: { inputPerMTok: 3, outputPerMTok: 15 } }).complete({ messages: [user('Hi')] });
    expect(response.usage.promptTokens).toBe(1000);
    expect(response.usage.completionTokens).toBe(2000);
    expect(response.usage.costUsd).toBeCloseTo(0.033, 10);
  });

  it('returns logprobs when asked, and judge() returns them greedily', async () => {
    const logprobs = [{ token: 'YES', logprob: -0.1, top_logprobs: [{ token: 'YES', logprob: -0.1 }, { token: 'NO', logprob: -2.4 }] }];
    const server = await serve({ responses: [{ content: 'YES', logprobs }, { content: 'YES', logprobs }] });
    const withLogprobs = await model(server, { logprobs: 5 }).complete({ messages: [user('ok?')] });
    expect(withLogprobs.logprobs).toEqual([{ token: 'YES', logprob: -0.1, topLogprobs: [{ token: 'YES', logprob: -0.1 }, { token: 'NO', logprob: -2.4 }] }]);
    expect(server.requests[0].body).toMatchObject({ logprobs: true, top_logprobs: 5 });
    const judged = await model(server, { stream: true }).judge([user('Is the patch right?')], { topLogprobs: 2, maxTokens: 8 });
    expect(judged.logprobs[0].topLogprobs.map((t) => t.token)).toEqual(['YES', 'NO']);
    expect(server.requests[1].body).toMatchObject({ logprobs: true, top_logprobs: 2, temperature: 0, max_tokens: 8 });
  });
});

describe('OpenAiModel retries and failures', () => {
  it('retries 503 twice, then succeeds (3 requests)', async () => {
    const server = await serve({ failures: [503, 503], responses: [{ content: 'finally' }] });
    const response = await model(server).complete({ messages: [user('Hi')] });
    expect(response.content).toBe('finally');
    expect(server.requests).toHaveLength(3);
    expect(server.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
  });

  it('retries 429', async () => {
    const server = await serve({ failures: [429], responses: [{ content: 'ok' }] });
    expect((await model(server).complete({ messages: [user('Hi')] })).content).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('honours maxRetries and then reports the model as unavailable', async () => {
    const server = await serve({ failures: [500, 502, 503, 504], responses: [{ content: 'too late' }] });
    const error = await failure(model(server, { maxRetries: 2 }).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelUnavailable);
    expect(error.message).toContain('HTTP 503');
    expect(error.message).toContain(server.url);
    expect(server.requests).toHaveLength(3);
  });

  it('fails fast on 400 with the server message, in vLLM error shape', async () => {
    const vllm = { object: 'error', message: 'tools[0].function.parameters is not a valid JSON Schema', type: 'BadRequestError', code: 400 };
    const server = await serve({ failures: [{ status: 400, body: vllm }], responses: [{ content: 'never' }] });
    const error = await failure(model(server).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelRejected);
    expect(error.message).toContain('is not a valid JSON Schema');
    expect(error.message).toContain('HTTP 400');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['vLLM', "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens (39000 in the messages, 1000 in the completion).", 32768, 40000],
    ['llama.cpp', 'request (9031 tokens) exceeds the available context size (8192 tokens), try increasing it', 8192, 9031],
    ['llama-cpp-python', 'Requested tokens (9031) exceed context window of 8192', 8192, 9031],
    ['SGLang', "The input (9031 tokens) is longer than the model's context length (8192 tokens).", 8192, 9031],
  ])('tells a context overflow from other refusals, with the sizes %s reports', async (_server, message, contextTokens, promptTokens) => {
    const server = await serve({ failures: [{ status: 400, body: { error: { message, type: 'invalid_request_error' } } }], responses: [{ content: 'never' }] });
    const error = await failure(model(server).complete({ messages: [user('Hi')] }));
    expect(error).toBeInstanceOf(ContextOverflowError);
    expect(error).toMatchObject({ reason: ErrorReason.ContextOverflow, contextTokens, promptTokens });
    expect(error.message).toBe(`The model server at ${server.url} refused a request longer than its context window: ${message.replace(/[^.]$/, '$&.')}`);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [401, ' Check the API key.'],
    [404, ' Check the model name "scripted-model" and the base URL.'],
    [422, ''],
  ])('fails fast on %i with the server\'s words as a sentence, and a hint', async (status, hint) => {
    const server = await serve({ failures: [{ status, body: { error: { message: `scripted ${status}` } } }], responses: [{ content: 'never' }] });
    const error = await failure(model(server).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelRejected);
    expect(error.message).toBe(`The model server at ${server.url} rejected the request with HTTP ${status}: scripted ${status}.${hint}`);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [429, 'is rate limiting requests', ' Wait and run again, or send fewer requests at once (--concurrency or entropo.concurrency).'],
    [503, 'is unavailable', ' Check that it is running and has finished loading the model.'],
  ])('HTTP %i until the request timeout ends the retries: reported as that answer, not as a server that did not answer', async (status, what, advice) => {
    const server = await serve({ failures: Array(20).fill(status), retryAfterMs: null });
    const error = await failure(model(server, { requestTimeoutMs: 1000, maxRetries: 10 }).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelUnavailable);
    expect(error.message).toBe(`The model server at ${server.url} ${what}: HTTP ${status} on ${server.requests.length} attempts until the 1 s request timeout: scripted failure ${status}.${advice}`);
    expect(server.requests.length).toBeGreaterThan(1);
  });

  it('a 429 asking to wait longer than the request timeout leaves fails at once, saying what the server asked', async () => {
    const busy = { status: 429, headers: { 'retry-after': '30' } };
    const server = await serve({ failures: [busy, busy], retryAfterMs: null, responses: [{ content: 'too late' }] });
    const started = Date.now();
    const error = await failure(model(server, { requestTimeoutMs: 2000 }).complete({ messages: [user('Hi')] }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error.reason).toBe(ErrorReason.ModelUnavailable);
    expect(error.message).toBe(`The model server at ${server.url} is rate limiting requests: HTTP 429 after 1 attempt: scripted failure 429. `
      + 'It asked to wait 30 s before trying again, more than is left of the 2 s request timeout. Wait and run again, or send fewer requests at once (--concurrency or entropo.concurrency).');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [{ baseUrl: 'localhost:8000' }, 'not an http(s) URL'],
    [{ model: '' }, 'model name is empty'],
    [{ requestTimeoutMs: 0 }, 'requestTimeoutMs must be a positive integer'],
    [{ streamIdleTimeoutMs: 1.5 }, 'streamIdleTimeoutMs must be a positive integer'],
    [{ maxRetries: -1 }, 'maxRetries must be a non-negative integer'],
  ])('rejects bad settings at construction: %o', (bad, expected) => {
    let error: unknown;
    try {
      new OpenAiModel({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', ...bad });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.Config);
    expect((error as AgentError).message).toContain(expected);
  });

  it('reports a dead endpoint quickly as unavailable, naming the URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}/v1`;
    const started = Date.now();
    const error = await failure(new OpenAiModel({ baseUrl: url, model: 'm', maxRetries: 1 }).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelUnavailable);
    expect(error.message).toContain(url);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message.split('\n')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each([false, true])('ends a call to a server that never answers at the request timeout, retries included (stream: %s)', async (stream) => {
    const server = await serve({ hang: true });
    const started = Date.now();
    const error = await failure(model(server, { stream, requestTimeoutMs: 400, maxRetries: 4 }).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelUnavailable);
    expect(error.message).toContain('did not start answering within 0.4 s');
    // One deadline for the whole call: five attempts must not make it five times as long.
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('reports a stream that stalls after the stream idle timeout, and lets a slow stream that keeps sending finish', async () => {
    const server = await serve({ responses: [{ content: 'partial', hang: true }] });
    const error = await failure(model(server, { stream: true, streamIdleTimeoutMs: 300 }).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelUnavailable);
    expect(error.message).toContain('stopped sending for 0.3 s in the middle of an answer');
    // 40 chunks 50 ms apart: 2 s in all, far past the request timeout, never silent for the idle timeout.
    const slow = await serve({ responses: [{ content: 'x'.repeat(7 * 40), chunkDelayMs: 50 }] });
    const started = Date.now();
    const answer = await model(slow, { stream: true, requestTimeoutMs: 500, streamIdleTimeoutMs: 500 }).complete({ messages: [user('Hi')] });
    expect(answer.content).toBe('x'.repeat(280));
    expect(Date.now() - started).toBeGreaterThan(1500);
  });

  it('reports a stream cut off mid-answer as truncated, not as an answer without choices', async () => {
    const server = await serve({ responses: [{ content: 'The fix is to change the loop so that', truncate: true }, { content: 'x', truncate: 'end' }] });
    const cut = await failure(model(server, { stream: true }).complete({ messages: [user('Hi')] }));
    expect(cut.reason).toBe(ErrorReason.ModelTruncated);
    expect(cut.message).toMatch(/cut its answer off after \d+ chunks \(\d+ characters\): the connection failed/);
    const ended = await failure(model(server, { stream: true }).complete({ messages: [user('Hi')] }));
    expect(ended.reason).toBe(ErrorReason.ModelTruncated);
    expect(ended.message).toContain('the stream ended without a finish reason');
  });

  it('names an empty choices list as such, streamed or not', async () => {
    const server = await serve({ responses: [{ emptyChoices: true }, { emptyChoices: true }] });
    expect((await failure(model(server).complete({ messages: [user('Hi')] }))).message).toContain('an empty "choices" list');
    expect((await failure(model(server, { stream: true }).complete({ messages: [user('Hi')] }))).message).toContain('streamed no choice at all');
  });

  it('names a web page where the API was meant (200, text/html), streamed or not', async () => {
    const page = '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body>It works.</body></html>';
    const server = await serve({ responses: [{ html: page }, { html: page }] });
    const streamed = await failure(model(server, { stream: true }).complete({ messages: [user('Hi')] }));
    expect(streamed.reason).toBe(ErrorReason.ModelUnavailable);
    expect(streamed.message).toBe(`The server at ${server.url} answered a streamed chat request with text/html; charset=utf-8, not server-sent events `
      + '(it begins "<!DOCTYPE html> <html><head><title>Welcome to nginx!</title></head><body>It work"): check that the base URL is the OpenAI-compatible API (it usually ends in /v1).');
    const single = await failure(model(server).complete({ messages: [user('Hi')] }));
    expect(single.message).toMatch(/^The server at \S+ answered a chat request with text\/html; charset=utf-8, not JSON \(it begins "<!DOCTYPE html> <html>/);
  });

  it('refuses a reply far longer than any model answer, streamed or not', async () => {
    const server = await serve({ responses: [{ content: 'y'.repeat(3_000) }, { content: 'y'.repeat(3_000) }] });
    for (const stream of [false, true]) {
      const error = await failure(model(server, { stream, maxReplyChars: 1_000 }).complete({ messages: [user('Hi')] }));
      expect(error.reason).toBe(ErrorReason.ModelReplyTooLarge);
      expect(error.message).toContain('more than 1000 characters');
    }
  });

  it('adds no abort listener to the caller\'s signal per call: 100 calls, retries included, no MaxListenersExceededWarning', async () => {
    const server = await serve({ failures: [503, 503, 503], responses: () => ({ content: 'ok' }) });
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (const stream of [false, true]) {
        const m = model(server, { stream });
        for (let i = 0; i < 50; i++) await m.complete({ messages: [user(`call ${i}`)], signal: controller.signal });
      }
      // The warning is emitted on the next tick after the 11th listener.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('OpenAiModel cancellation and secrets', () => {
  it.each([false, true])('an abort while the server hangs rejects with Cancelled within a second (stream: %s)', async (stream) => {
    const server = await serve(stream ? { responses: [{ content: 'x', hang: true }] } : { hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const error = await failure(model(server, { stream }).complete({ messages: [user('Hi')], signal: controller.signal }));
    expect(error.reason).toBe(ErrorReason.Cancelled);
    expect(Date.now() - started).toBeLessThan(1200);
    expect(server.requests).toHaveLength(1);
  });

  it('an abort during the backoff between retries rejects at once', async () => {
    const server = await serve({ failures: [503], retryAfterMs: null, responses: [{ content: 'late' }] });
    const controller = new AbortController();
    const call = model(server).complete({ messages: [user('Hi')], signal: controller.signal });
    await waitFor(() => server.requests.length === 1);
    const started = Date.now();
    controller.abort();
    const error = await failure(call);
    expect(error.reason).toBe(ErrorReason.Cancelled);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('an abort during the wait a 429 asks for (Retry-After: 30 s) rejects at once, and nothing keeps the process alive after it', async () => {
    const busy = { status: 429, headers: { 'retry-after': '30' } };
    const server = await serve({ failures: [busy, busy], retryAfterMs: null, responses: [{ content: 'late' }] });
    const controller = new AbortController();
    const call = model(server).complete({ messages: [user('Hi')], signal: controller.signal });
    await waitFor(() => server.requests.length === 1);
    const started = Date.now();
    controller.abort();
    expect((await failure(call)).reason).toBe(ErrorReason.Cancelled);
    expect(Date.now() - started).toBeLessThan(1000);
    // The same in a process of its own, which must end once the call is cancelled, not when the 30 s are over.
    // Its temp folder (tsx's cache) is its own and goes with it.
    const childTmp = mkdtempSync(join(tmpdir(), 'cancelled-call-'));
    onTestFinished(() => rmSync(childTmp, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('test/helpers/cancelledCallMain.ts'), server.url, '1000'],
      { stdio: ['ignore', 'pipe', 'inherit'], timeout: 60_000, env: { ...process.env, TMPDIR: childTmp } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const spawned = Date.now();
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    expect([code, out]).toEqual([0, 'cancelled\n']);
    expect(Date.now() - spawned).toBeLessThan(10_000);
    expect(server.requests).toHaveLength(2);
  });

  it('an already aborted signal sends nothing', async () => {
    const server = await serve({ responses: [{ content: 'x' }] });
    const error = await failure(model(server).complete({ messages: [user('Hi')], signal: AbortSignal.abort() }));
    expect(error.reason).toBe(ErrorReason.Cancelled);
    expect(server.requests).toHaveLength(0);
  });

  it('sends the API key as a Bearer header and keeps it out of error messages', async () => {
    const key = 'sk-test-0123456789abcdef';
    const server = await serve({ apiKey: key, responses: [{ content: 'authorized' }] });
    expect((await model(server, { apiKey: key }).complete({ messages: [user('Hi')] })).content).toBe('authorized');
    expect(server.requests[0].headers.authorization).toBe(`Bearer ${key}`);

    const wrong = 'sk-wrong-fedcba9876543210';
    const error = await failure(model(server, { apiKey: wrong }).complete({ messages: [user('Hi')] }));
    expect(error.reason).toBe(ErrorReason.ModelRejected);
    expect(error.message).toContain('Incorrect API key');
    expect(error.message).not.toContain(wrong);
    expect(server.requests).toHaveLength(2);
  });

  it('never shows the key when the model object itself is logged', () => {
    const key = 'sk-logged-object-777';
    const llm = new OpenAiModel({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', apiKey: key });
    expect(JSON.stringify(llm)).not.toContain(key);
    expect(inspect(llm, { depth: 10, showHidden: true })).not.toContain(key);
    expect(JSON.stringify(llm)).toContain('http://127.0.0.1:1/v1');
  });

  it('scrubs a key that the server echoes back', async () => {
    const key = 'sk-echoed-secret-42';
    const server = await serve({ failures: [{ status: 403, body: { error: { message: `key ${key} is not allowed here` } } }] });
    const error = await failure(model(server, { apiKey: key }).complete({ messages: [user('Hi')] }));
    expect(error.message).toContain('key [redacted] is not allowed here');
    expect(error.message).not.toContain(key);
    expect(JSON.stringify(error)).not.toContain(key);
  });

  it('sends no Authorization header without a key', async () => {
    const server = await serve({ responses: [{ content: 'ok' }] });
    await model(server).complete({ messages: [user('Hi')] });
    expect(server.requests[0].headers).not.toHaveProperty('authorization');
  });
});


async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
