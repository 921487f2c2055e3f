import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createModelFactory } from '../../../src/core/llm/createModel.js';
import { classifyServer, detectServer, extrasFor, PREFILL } from '../../../src/core/llm/serverProfile.js';
import { startOpenAiServer, type OpenAiServer } from '../../helpers/openAiServer.js';

const models = (ownedBy: string) => ({ object: 'list', data: [{ id: 'm', object: 'model', owned_by: ownedBy }] });

describe('server profiles', () => {
  const servers: OpenAiServer[] = [];
  afterEach(async () => { for (const s of servers.splice(0)) await s.close(); });

  it('tells the servers apart by their /models answer and headers', () => {
    const none = new Headers();
    expect(classifyServer(models('vllm'), none)).toBe('vllm');
    expect(classifyServer(models('sglang'), none)).toBe('sglang');
    expect(classifyServer(models('llamacpp'), none)).toBe('llama.cpp');
    expect(classifyServer(models('me'), new Headers({ server: 'uvicorn' }))).toBe('llama-cpp-python');
    expect(classifyServer(models('library'), none)).toBe('ollama');
    expect(classifyServer(models('organization_owner'), none)).toBe('lmstudio');
    expect(classifyServer(models('openai'), none)).toBe('other');
    expect(classifyServer({ nonsense: true }, none)).toBe('other');
  });

  it('spells top_k and the repetition penalty the way each server takes them, and leaves them out elsewhere', () => {
    const extras = { topK: 20, repetitionPenalty: 1.05 };
    expect(extrasFor('vllm', extras)).toEqual({ top_k: 20, repetition_penalty: 1.05 });
    expect(extrasFor('llama-cpp-python', extras)).toEqual({ top_k: 20, repeat_penalty: 1.05 });
    expect(extrasFor('lmstudio', extras)).toEqual({ top_k: 20, repeat_penalty: 1.05 });
    expect(extrasFor('ollama', extras)).toEqual({});
    expect(extrasFor('other', extras)).toEqual({});
  });

  it('sends each rollout\'s seed where the server takes one, and knows how each continues a begun answer', async () => {
    for (const kind of ['vllm', 'sglang', 'llama.cpp', 'llama-cpp-python', 'ollama', 'lmstudio', 'other'] as const) {
      expect(extrasFor(kind, { seed: 3 })).toEqual({ seed: 3 });
    }
    expect(PREFILL).toEqual({ vllm: 'continue_final_message', sglang: 'continue_final_message', 'llama.cpp': 'trailing',
      'llama-cpp-python': undefined, ollama: 'trailing', lmstudio: undefined, other: undefined });
    const vllm = await startOpenAiServer({ ownedBy: 'vllm', responses: [{ content: 'a' }, { content: 'b' }] });
    servers.push(vllm);
    const model = (await createModelFactory({ kind: 'endpoint', baseUrl: vllm.url, model: 'm' }))(0);
    await model.complete({ messages: [{ role: 'user', content: 'hi' }], sampling: { temperature: 0.7, seed: 12 } });
    await model.complete({ messages: [{ role: 'user', content: 'hi' }], sampling: { temperature: 0.7 } });
    expect(vllm.requests[0].body.seed).toBe(12);
    expect(vllm.requests[1].body).not.toHaveProperty('seed');
  });

  it('sends the extras a detected vLLM takes with sampled calls only; an explicit extra wins; unknown servers get none', async () => {
    const vllm = await startOpenAiServer({ ownedBy: 'vllm', responses: [{ content: 'a' }, { content: 'b' }, { content: 'c' }] });
    const plain = await startOpenAiServer({ responses: [{ content: 'd' }] });
    servers.push(vllm, plain);
    expect(await detectServer(vllm.url)).toBe('vllm');
    expect(await detectServer('http://127.0.0.1:9/v1')).toBe('other');
    const model = (await createModelFactory({ kind: 'endpoint', baseUrl: vllm.url, model: 'm' }))(0);
    const messages = [{ role: 'user' as const, content: 'hi' }];
    await model.complete({ messages, sampling: { temperature: 0.7 } });
    await model.complete({ messages, sampling: { temperature: 0.7, extra: { top_k: 5 } } });
    await model.complete({ messages, sampling: { temperature: 0 } });
    const bodies = vllm.requests.map((r) => r.body);
    expect(bodies[0]).toMatchObject({ top_k: 20, repetition_penalty: 1.05 });
    expect(bodies[1]).toMatchObject({ top_k: 5, repetition_penalty: 1.05 });
    expect(bodies[2]).not.toHaveProperty('top_k');
    const other = (await createModelFactory({ kind: 'endpoint', baseUrl: plain.url, model: 'm' }))(0);
    await other.complete({ messages, sampling: { temperature: 0.7 } });
    expect(plain.requests[0].body).not.toHaveProperty('top_k');
    expect(plain.requests[0].body).not.toHaveProperty('repetition_penalty');
  });

  it('asks once more when the server drops the connection under the request, and gives up as `other` after that', async () => {
    let drops = 1;
    const seen: number[] = [];
    const http = createServer((request, response) => {
      seen.push(drops);
      // What a server that closed a kept-alive connection as it was reused does: no answer, the socket closed
      if (drops-- > 0) return void request.socket.destroy();
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(models('vllm')));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1`;
    try {
      expect(await detectServer(url)).toBe('vllm');
      expect(seen).toHaveLength(2);
      drops = 2;
      expect(await detectServer(url)).toBe('other');
      expect(seen).toHaveLength(4);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
