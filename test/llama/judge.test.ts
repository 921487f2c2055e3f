/** The LLM judge against llama.cpp's server with a real model: P(YES) read for every candidate, never "no verdict". */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiModel } from '../../src/core/llm/openAiModel.js';
import type { Message } from '../../src/core/types.js';
import { judgeSignals, VERDICT_PREFIX } from '../../src/core/verify/judge.js';
import { estimateJudgeTokens, judgeMessages } from '../../src/core/verify/judgePrompt.js';
import { llamaForTests, startLlamaServer, type LlamaServer } from '../helpers/llamaServer.js';

const { setup, skip } = llamaForTests();
const ISSUE = 'add(a, b) in calc.py returns a - b; it must return the sum.';
const diff = (line: string) => `diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    ${line}\n`;
/** A rollout that read a long log: longer than the server's context until condensed. */
const LONG_RUN: Message[] = [
  { role: 'system', content: 'You are a software engineering agent.' },
  { role: 'user', content: ISSUE },
  { role: 'assistant', content: 'Let me run the tests.', toolCalls: [{ id: 'c1', name: 'execute_bash', arguments: '{"cmd":"pytest -v"}' }] },
  { role: 'tool', toolCallId: 'c1', content: Array.from({ length: 600 }, (_, i) => `test_case_${i} PASSED`).join('\n') },
];

describe.skipIf(!setup)(`LLM judge on llama.cpp's server with SmolLM2-135M-Instruct${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: LlamaServer;
  // A small window, as laptops often run, keeps the refused prompt short
  beforeAll(async () => { server = await startLlamaServer(setup!, { contextTokens: 2048 }); }, 180_000);
  afterAll(async () => { await server?.close(); });

  it('continues the answer after <judgement>, so the first generated token is the verdict', async () => {
    const model = new OpenAiModel({ baseUrl: server.url, model: server.alias });
    const response = await model.judge(judgeMessages(ISSUE, undefined, diff('return a + b'), 2_000), { prefix: VERDICT_PREFIX, maxTokens: 4 });
    expect(response.prefilled).toBe(VERDICT_PREFIX);
    // llama.cpp's server returns the prefix with the continuation; the logprobs cover only what it generated
    expect(response.content.startsWith(VERDICT_PREFIX)).toBe(true);
    expect(response.logprobs[0].token).not.toMatch(/^\s*</);
    expect(response.logprobs[0].topLogprobs).toHaveLength(20);
    expect(response.logprobs[0].topLogprobs.map((t) => t.token.trim().toUpperCase()).some((t) => t.startsWith('Y') || t.startsWith('N'))).toBe(true);
  });

  it('reads P(YES) for every candidate, a long interaction log condensed to the server\'s real context', async () => {
    const model = new OpenAiModel({ baseUrl: server.url, model: server.alias });
    const candidates = [
      { id: 'r0', patch: diff('return a + b') },
      { id: 'r1', patch: diff('return a * b') },
      { id: 'r2', patch: diff('return b + a'), messages: LONG_RUN },
    ];
    // 32k tokens configured (the default): the long log is refused by the 2k server, then condensed to fit
    expect(estimateJudgeTokens(judgeMessages(ISSUE, LONG_RUN, candidates[2].patch, 32_000))).toBeGreaterThan(2048);
    const scores = await judgeSignals(candidates, { model, issue: ISSUE, concurrency: 1 });
    expect([...scores.keys()].sort()).toEqual(['r0', 'r1', 'r2']);
    for (const [id, value] of scores) {
      expect(value.status, `${id}: ${JSON.stringify(value)}`).toBe('ok');
      if (value.status !== 'ok') continue;
      expect(value.score).toBeGreaterThan(0);
      expect(value.score).toBeLessThan(1);
      expect(value.detail).toMatch(/^judge P\(YES\) \d\.\d\d/);
      const { lpYes, lpNo } = value.data as { lpYes: number; lpNo: number };
      expect(Number.isFinite(lpYes) && Number.isFinite(lpNo)).toBe(true);
    }
  }, 180_000);
});
