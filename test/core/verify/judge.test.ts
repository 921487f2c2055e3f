import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiModel } from '../../../src/core/llm/openAiModel.js';
import { judgeSignals, judgeVerifier, VERDICT_PREFIX, verdict } from '../../../src/core/verify/judge.js';
import { JUDGE_SYSTEM, JUDGE_USER, judgeMessages } from '../../../src/core/verify/judgePrompt.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../helpers/tempRepo.js';
import type { Message } from '../../../src/core/types.js';
import { startOpenAiServer, type ChatBody, type OpenAiServer, type ScriptedReply } from '../../helpers/openAiServer.js';

/** A judgement answer with top logprobs at the verdict token. */
function answer(lpYes: number, lpNo: number, delayMs = 0): ScriptedReply {
  const top = [{ token: 'YES', logprob: lpYes }, { token: 'NO', logprob: lpNo }, { token: 'Y', logprob: -9 }];
  const tok = (token: string) => ({ token, logprob: -0.01, top_logprobs: [{ token, logprob: -0.01 }] });
  const chosen = lpYes >= lpNo ? 'YES' : 'NO';
  return {
    content: `<judgement>${chosen}</judgement>`, delayMs,
    logprobs: [tok('<'), tok('jud'), tok('gement'), tok('>'), { token: chosen, logprob: Math.max(lpYes, lpNo), top_logprobs: top }, tok('</'), tok('judgement>')],
  };
}

/** What a server that continued the `<judgement>` prefix answers: the verdict is the first token. */
function continued(top: { token: string; logprob: number }[]): ScriptedReply {
  const tok = (token: string) => ({ token, logprob: -0.01, top_logprobs: [{ token, logprob: -0.01 }] });
  return { content: `${top[0].token}</judgement>`, logprobs: [{ token: top[0].token, logprob: top[0].logprob, top_logprobs: top }, tok('</'), tok('judgement>')] };
}

const badRequest = { status: 400, body: { error: { message: 'this one request is malformed' } } };

const patch = (tag: string) => `diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2  # ${tag}\n`;

describe('LLM judge', () => {
  let server: OpenAiServer | undefined;
  afterEach(async () => { await server?.close(); server = undefined; });

  it('reads P(YES) from the top logprobs at the verdict token, every spelling of the answer counted', () => {
    const value = verdict(answer(-0.2, -1.8).logprobs!.map((l) => ({ token: l.token, logprob: l.logprob, topLogprobs: l.top_logprobs })), '');
    expect(value.status).toBe('ok');
    // "Y" at -9 begins YES too (tokenizers split it as Y + ES): its mass joins YES's
    const lpYes = Math.log(Math.exp(-0.2) + Math.exp(-9));
    expect(value.status === 'ok' && value.score).toBeCloseTo(1 / (1 + Math.exp(-1.8 - lpYes)), 10);
    const data = (value as unknown as { data: { lpYes: number; lpNo: number } }).data;
    expect(data.lpYes).toBeCloseTo(lpYes, 12);
    expect(data.lpNo).toBe(-1.8);
  });

  it('keeps scores matched to their candidates when answers arrive out of order', async () => {
    server = await startOpenAiServer({
      // The first candidate's answer is slow and positive, the second's fast and negative.
      responses: (body: ChatBody) => JSON.stringify(body.messages).includes('CANDIDATE-A') ? answer(-0.1, -3, 400) : answer(-4, -0.05, 0),
    });
    const model = new OpenAiModel({ baseUrl: server.url, model: 'judge' });
    const scores = await judgeSignals([{ id: 'a', patch: patch('CANDIDATE-A') }, { id: 'b', patch: patch('CANDIDATE-B') }], { model, issue: 'bug' });
    const a = scores.get('a');
    const b = scores.get('b');
    const yes = (lp: number) => Math.log(Math.exp(lp) + Math.exp(-9));
    expect(a?.status === 'ok' && a.score).toBeCloseTo(1 / (1 + Math.exp(-3 - yes(-0.1))), 6);
    expect(b?.status === 'ok' && b.score).toBeCloseTo(1 / (1 + Math.exp(-0.05 - yes(-4))), 6);
    expect(server.requests.map((r) => r.body.logprobs)).toEqual([true, true]);
    expect(server.requests[0].body.top_logprobs).toBe(20);
  });

  it.each([
    ['vllm', 'vLLM', { continue_final_message: true, add_generation_prompt: false }],
    ['llamacpp', "llama.cpp's server", {}],
  ])('forces the verdict where the server continues a begun answer (%s: %s), and reads the next token', async (ownedBy, _name, flags) => {
    // A small model asked freely explains first; continued after <judgement>, its next token is the verdict
    server = await startOpenAiServer({ ownedBy, responses: () => continued([{ token: 'Y', logprob: -1.2 }, { token: 'No', logprob: -0.9 }, { token: 'NO', logprob: -1.6 }, { token: 'The', logprob: -3 }]) });
    const model = new OpenAiModel({ baseUrl: server.url, model: 'judge' });
    const scores = await judgeSignals([{ id: 'a', patch: patch('A') }, { id: 'b', patch: patch('B') }], { model, issue: 'bug' });
    const lpNo = Math.log(Math.exp(-0.9) + Math.exp(-1.6));
    for (const id of ['a', 'b']) {
      const value = scores.get(id);
      expect(value?.status).toBe('ok');
      expect(value?.status === 'ok' && value.score).toBeCloseTo(1 / (1 + Math.exp(lpNo + 1.2)), 10);
    }
    const chats = server.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(chats).toHaveLength(2);
    for (const { body } of chats) {
      const messages = body.messages as { role: string; content: string }[];
      expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(messages[2].content).toBe(VERDICT_PREFIX);
      expect(body).toMatchObject({ temperature: 0, logprobs: true, top_logprobs: 20, ...flags });
      if (!('continue_final_message' in flags)) expect(body).not.toHaveProperty('continue_final_message');
    }
  });

  it('asks without a prefix where the server cannot continue an answer, and finds the verdict in what it wrote', async () => {
    server = await startOpenAiServer({ ownedBy: 'organization_owner', responses: [answer(-0.3, -2)] });
    const model = new OpenAiModel({ baseUrl: server.url, model: 'judge' });
    const scores = await judgeSignals([{ id: 'a', patch: patch('A') }], { model, issue: 'bug' });
    expect(scores.get('a')?.status).toBe('ok');
    const messages = server.requests.find((r) => r.path.endsWith('/chat/completions'))!.body.messages as { role: string }[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('reads a continued answer at its first token, and searches one that started the tag again', () => {
    const lp = (token: string, top: [string, number][]) => ({ token, logprob: top[0][1], topLogprobs: top.map(([t, l]) => ({ token: t, logprob: l })) });
    const first = verdict([lp('Well', [['Well', -0.5], ['YES', -1], ['NO', -2]]), lp(',', [[',', -0.1]])], 'Well,', VERDICT_PREFIX);
    expect(first.status === 'ok' && first.score).toBeCloseTo(1 / (1 + Math.exp(-1)), 10);
    const restarted = verdict([lp('<', [['<', -0.1]]), lp('judgement>', [['judgement>', -0.1]]), lp('NO', [['NO', -0.2], ['YES', -2.2]])], '<judgement>NO', VERDICT_PREFIX);
    expect(restarted.status === 'ok' && restarted.score).toBeCloseTo(1 / (1 + Math.exp(2)), 10);
    expect(verdict([lp('The', [['The', -0.2], ['A', -1], ['Not', -2]])], 'The', VERDICT_PREFIX)).toEqual({
      status: 'unavailable', reason: 'neither YES nor NO among the 3 most likely tokens at the verdict (the most likely: "The")' });
  });

  it('says so, without a number, when the endpoint returns no logprobs', async () => {
    server = await startOpenAiServer({ responses: [{ content: '<judgement>YES</judgement>' }] });
    const model = new OpenAiModel({ baseUrl: server.url, model: 'judge' });
    const scores = await judgeSignals([{ id: 'a', patch: patch('A') }], { model, issue: 'bug' });
    expect(scores.get('a')).toEqual({ status: 'unavailable', reason: 'the endpoint returned no logprobs (answer was "<judgement>YES</judgement>")' });
  });

  it('asks an endpoint without logprobs once, not once per candidate, and counts what the calls cost', async () => {
    server = await startOpenAiServer({ responses: [{ content: '<judgement>YES</judgement>', usage: { prompt_tokens: 100, completion_tokens: 4 } }] });
    const model = new OpenAiModel({ baseUrl: server.url, model: 'judge', pricing: { inputPerMTok: 1, outputPerMTok: 2 } });
    const verifier = judgeVerifier({ model, issue: 'bug' });
    const { judge } = await verifier.verify([{ id: 'a', patch: patch('A') }, { id: 'b', patch: patch('B') }, { id: 'c', patch: '' }]);
    expect(server.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(1);
    expect(judge!.get('b')).toEqual(judge!.get('a'));
    expect(judge!.get('a')).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/^the endpoint returned no logprobs/) });
    expect(judge!.get('c')).toEqual({ status: 'unavailable', reason: 'empty patch' });
    expect(verifier.spent!()).toEqual({ promptTokens: 100, completionTokens: 4, costUsd: (100 * 1 + 4 * 2) / 1e6 });
  });

  it.each([
    ['a refused key (401)', { failures: [badRequest, { status: 401, body: { error: { message: 'Incorrect API key provided.' } } }], responses: () => answer(-0.2, -2) },
      /^judge failed: The model server at \S+ rejected the request with HTTP 401: Incorrect API key provided\. Check the API key\.$/],
    ['an unknown model (404)', { failures: [badRequest, { status: 404, body: { error: { message: 'The model `judge` does not exist' } } }], responses: () => answer(-0.2, -2) },
      /^judge failed: The model server at \S+ rejected the request with HTTP 404: The model `judge` does not exist\. Check the model name "judge" and the base URL\.$/],
    ['no answer within the request timeout', { responses: [answer(-0.2, -2), { hang: true }, answer(-0.2, -2), answer(-0.2, -2), answer(-0.2, -2)] },
      /^judge failed: The model server at \S+ did not start answering within 0\.5 s; /],
  ])('asks no more once a call fails in a way that repeats, %s: the candidates not yet asked get that reason', async (_what, script, reason) => {
    server = await startOpenAiServer(script);
    const model = new OpenAiModel({ baseUrl: server.url, model: 'judge', requestTimeoutMs: 500 });
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const scores = await judgeSignals(ids.map((id) => ({ id, patch: patch(id) })), { model, issue: 'bug', concurrency: 1 });
    // The first failure (a 400 about one request) or answer says nothing of the others; the second does.
    expect(server.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(2);
    expect(scores.get('a')).not.toEqual(scores.get('b'));
    expect(scores.get('b')).toEqual({ status: 'unavailable', reason: expect.stringMatching(reason) });
    for (const id of ['c', 'd', 'e']) expect(scores.get(id)).toEqual(scores.get('b'));
  });

  it('asks no more once no connection reaches the server', async () => {
    let connections = 0;
    const closing = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(closing.address() as AddressInfo).port}/v1`;
      const model = new OpenAiModel({ baseUrl: url, model: 'judge', server: 'other', maxRetries: 0 });
      const scores = await judgeSignals(['a', 'b', 'c'].map((id) => ({ id, patch: patch(id) })), { model, issue: 'bug' });
      expect(connections).toBe(1);
      expect(scores.get('a')).toEqual({ status: 'unavailable', reason: expect.stringMatching(/^judge failed: Cannot reach the model server at /) });
      expect(scores.get('b')).toEqual(scores.get('a'));
      expect(scores.get('c')).toEqual(scores.get('a'));
    } finally {
      await new Promise((resolve) => closing.close(resolve));
    }
  });

  it('clips the longest observations to fit and keeps the issue and the patch', () => {
    const trajectory: Message[] = [
      { role: 'system', content: 'agent system prompt' },
      { role: 'user', content: 'ISSUE TEXT: the last page is lost' },
      { role: 'assistant', content: 'look', toolCalls: [{ id: '1', name: 'execute_bash', arguments: '{"cmd":"cat big"}' }] },
      { role: 'tool', toolCallId: '1', content: 'x'.repeat(200_000) },
    ];
    const messages = judgeMessages('ISSUE TEXT', trajectory, patch('P'), 8_000);
    const text = messages[1].content;
    expect(text).toContain('[ISSUE]\nISSUE TEXT: the last page is lost\n[/ISSUE]');
    expect(text).toContain('[ASSISTANT]\nlook\n<function=execute_bash>\n<parameter=cmd>cat big</parameter>\n</function>');
    expect(text).toMatch(/characters omitted/);
    expect(text).toContain('+a = 2  # P');
    expect(text).not.toContain('agent system prompt');
    expect((messages[0].content.length + text.length) * 0.3).toBeLessThanOrEqual(8_000);
  });

  it('sends exactly the prompt the trainer trains the judge on', () => {
    const prompts = path.join(PROJECT_ROOT, 'trainer', 'entropo_trainer', 'prompts');
    expect(JUDGE_SYSTEM).toBe(readFileSync(path.join(prompts, 'judge_system.txt'), 'utf8').trim());
    expect(JUDGE_USER).toBe(readFileSync(path.join(prompts, 'judge_user.txt'), 'utf8'));
  });

  it('renders a trajectory exactly as the trainer\'s judge data does', () => {
    const python = path.join(PROJECT_ROOT, 'trainer', '.venv', 'bin', 'python');
    const line = readFileSync(path.join(PROJECT_ROOT, 'schemas', 'fixtures', 'entropo-kto.jsonl'), 'utf8').split('\n').find((l) => l.includes('"tool_calls"'))!;
    const obj = JSON.parse(line) as { prompt: ChatMessage[]; completion: ChatMessage[]; meta?: { patch?: string } };
    const script = 'import json,sys\nfrom entropo_trainer.judge import build_judge_conversation\nobj=json.loads(sys.stdin.read())\nprint(json.dumps(build_judge_conversation(obj, lambda m: 0, None).messages[:2]))';
    const fromPython = JSON.parse(execFileSync(python, ['-c', script], { input: line, cwd: path.join(PROJECT_ROOT, 'trainer') }).toString()) as { role: string; content: string }[];
    const trajectory = [...obj.prompt, ...obj.completion].map(fromChat);
    const ours = judgeMessages('unused', trajectory, obj.meta?.patch ?? '', 1_000_000);
    expect(ours.map((m) => ({ role: m.role, content: m.content }))).toEqual(fromPython);
  });
});

interface ChatMessage { role: Message['role']; content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }

function fromChat(m: ChatMessage): Message {
  return { role: m.role, content: m.content ?? '', ...(m.tool_calls ? { toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) } : {}) };
}
