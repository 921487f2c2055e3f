import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiModel } from '../../../src/core/llm/openAiModel.js';
import { judgeSignals, verdict } from '../../../src/core/verify/judge.js';
import { judgeMessages } from '../../../src/core/verify/judgePrompt.js';
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

const patch = (tag: string) => `diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2  # ${tag}\n`;

describe('LLM judge', () => {
  let server: OpenAiServer | undefined;
  afterEach(async () => { await server?.close(); server = undefined; });

  it('reads P(YES) from the top logprobs at the verdict token', () => {
    const value = verdict(answer(-0.2, -1.8).logprobs!.map((l) => ({ token: l.token, logprob: l.logprob, topLogprobs: l.top_logprobs })), '');
    expect(value.status).toBe('ok');
    expect(value.status === 'ok' && value.score).toBeCloseTo(1 / (1 + Math.exp(-1.6)), 10);
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
    expect(a?.status === 'ok' && a.score).toBeCloseTo(1 / (1 + Math.exp(-2.9)), 6);
    expect(b?.status === 'ok' && b.score).toBeCloseTo(1 / (1 + Math.exp(3.95)), 6);
    expect(server.requests.map((r) => r.body.logprobs)).toEqual([true, true]);
    expect(server.requests[0].body.top_logprobs).toBe(20);
  });

  it('says so, without a number, when the endpoint returns no logprobs', async () => {
    server = await startOpenAiServer({ responses: [{ content: '<judgement>YES</judgement>' }] });
    const model = new OpenAiModel({ baseUrl: server.url, model: 'judge' });
    const scores = await judgeSignals([{ id: 'a', patch: patch('A') }], { model, issue: 'bug' });
    expect(scores.get('a')).toEqual({ status: 'unavailable', reason: 'the endpoint returned no logprobs (answer was "<judgement>YES</judgement>")' });
  });

  it('condenses the longest observations to fit and keeps the issue and the patch', () => {
    const trajectory: Message[] = [
      { role: 'system', content: 'agent system prompt' },
      { role: 'user', content: 'ISSUE TEXT: the last page is lost' },
      { role: 'assistant', content: 'look', toolCalls: [{ id: '1', name: 'execute_bash', arguments: '{"cmd":"cat big"}' }] },
      { role: 'tool', toolCallId: '1', content: 'x'.repeat(200_000) },
    ];
    const messages = judgeMessages('ISSUE TEXT', trajectory, patch('P'), 8_000);
    const text = messages[1].content;
    expect(text).toContain('[ISSUE]\nISSUE TEXT: the last page is lost');
    expect(text).toContain('<function=execute_bash>');
    expect(text).toContain('condensed to fit the context');
    expect(text).toContain('+a = 2  # P');
    expect(text).not.toContain('agent system prompt');
    expect(text.length).toBeLessThan(8_000 / 0.3);
  });
});
