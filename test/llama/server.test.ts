/** The OpenAI client against llama.cpp's server with a real model: tokens, streaming, stops and sampling knobs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelFactory } from '../../src/core/llm/createModel.js';
import { OpenAiModel } from '../../src/core/llm/openAiModel.js';
import { DEFAULT_EXTRAS, detectServer, extrasFor } from '../../src/core/llm/serverProfile.js';
import type { Message, SamplingParams } from '../../src/core/types.js';
import { llamaForTests, promptTokens, startLlamaServer, type LlamaServer } from '../helpers/llamaServer.js';

const { setup, skip } = llamaForTests();
const COUNT: Message[] = [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'Count from 1 to 10, separated by commas.' }];
const STORY: Message[] = [{ role: 'user', content: 'Tell me a short story about a cat.' }];

describe.skipIf(!setup)(`llama.cpp's server with SmolLM2-135M-Instruct${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: LlamaServer;
  beforeAll(async () => { server = await startLlamaServer(setup!); }, 180_000);
  afterAll(async () => { await server?.close(); });

  const client = (stream: boolean, logprobs?: number) => new OpenAiModel({ baseUrl: server.url, model: server.alias, stream, logprobs, server: 'llama.cpp' });
  const ask = async (messages: Message[], sampling: SamplingParams) => (await client(false).complete({ messages, sampling })).content;

  it('is recognised as llama.cpp from its /models answer', async () => {
    expect(await detectServer(server.url)).toBe('llama.cpp');
  });

  it('counts prompt and completion tokens exactly as the server tokenizes them, streamed or not', async () => {
    const expected = await promptTokens(server, COUNT);
    const sampling = { temperature: 0, maxTokens: 7 };
    const streamed = await client(true).complete({ messages: COUNT, sampling });
    const single = await client(false, 1).complete({ messages: COUNT, sampling });
    expect(streamed.content).toBe(single.content);
    expect(single.content).toMatch(/^1, 2, 3/);
    for (const response of [streamed, single]) {
      expect(response.usageEstimated).toBe(false);
      expect(response.usage).toEqual({ promptTokens: expected, completionTokens: 7, costUsd: 0 });
      expect(response.finishReason).toBe('length');
    }
    // One logprob per generated token, and the tokens spell the answer
    expect(single.logprobs).toHaveLength(7);
    expect(single.logprobs!.map((t) => t.token).join('')).toBe(single.content);
  });

  it('ends at a stop string and leaves it out, streamed or not', async () => {
    const whole = await client(false).complete({ messages: COUNT, sampling: { temperature: 0, maxTokens: 40 } });
    expect(whole.content).toMatch(/^1, 2, 3, 4, 5, 6/);
    for (const stream of [true, false]) {
      const response = await client(stream).complete({ messages: COUNT, sampling: { temperature: 0, maxTokens: 40, stop: [', 5'] } });
      expect(response.content).toBe('1, 2, 3, 4');
      expect(response.finishReason).toBe('stop');
      // The tokens up to and including the stop string were generated and are billed; none after it
      expect(response.usage.completionTokens).toBeGreaterThan(7);
      expect(response.usage.completionTokens).toBeLessThan(whole.usage.completionTokens);
    }
  });

  it('honours top_k, the repetition penalty and the seed in the spelling its profile gives, and ignores vLLM\'s', async () => {
    expect(extrasFor('llama.cpp', { topK: 1, repetitionPenalty: 2, seed: 7 })).toEqual({ top_k: 1, repeat_penalty: 2, seed: 7 });
    const sampling = { maxTokens: 24 };
    const greedy = await ask(STORY, { ...sampling, temperature: 0 });
    const seeded = await ask(STORY, { ...sampling, temperature: 1, seed: 7 });
    expect(await ask(STORY, { ...sampling, temperature: 1, seed: 7 })).toBe(seeded);
    const others: string[] = [];
    for (const seed of [8, 9, 10]) others.push(await ask(STORY, { ...sampling, temperature: 1, seed }));
    expect(others.some((text) => text !== seeded)).toBe(true);
    // top_k 1 leaves one candidate token: sampling hot is then greedy
    expect(await ask(STORY, { ...sampling, temperature: 1.5, seed: 3, extra: { top_k: 1 } })).toBe(greedy);
    // llama.cpp's name for the penalty changes the answer; vLLM's is dropped without a word
    expect(await ask(STORY, { ...sampling, temperature: 0, extra: { repeat_penalty: 2 } })).not.toBe(greedy);
    expect(await ask(STORY, { ...sampling, temperature: 0, extra: { repetition_penalty: 2 } })).toBe(greedy);
  });

  it('gets the design\'s extras and a reproducible seed from the product\'s model factory', async () => {
    expect(extrasFor('llama.cpp', DEFAULT_EXTRAS)).toEqual({ top_k: 20, repeat_penalty: 1.05 });
    const model = (await createModelFactory({ kind: 'endpoint', baseUrl: server.url, model: server.alias }))(0);
    const sampled = async (seed: number) => (await model.complete({ messages: STORY, sampling: { temperature: 0.7, topP: 0.8, seed, maxTokens: 24 } })).content;
    const first = await sampled(11);
    expect(first.length).toBeGreaterThan(0);
    expect(await sampled(11)).toBe(first);
  });
});
