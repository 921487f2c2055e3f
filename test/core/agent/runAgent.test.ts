import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../src/core/agent/agentEvents.js';
import { resolveConfig } from '../../../src/core/agent/config.js';
import { refuseIssueTooLarge, runAgent } from '../../../src/core/agent/runAgent.js';
import { readTrajectory } from '../../../src/core/agent/trajectory.js';
import { Emitter } from '../../../src/core/events.js';
import { OpenAiModel } from '../../../src/core/llm/openAiModel.js';
import { NodeProcessRunner } from '../../../src/core/node/nodeProcessRunner.js';
import { NodeWorkspace } from '../../../src/core/node/nodeWorkspace.js';
import type { Limits } from '../../../src/core/types.js';
import { exampleReplies } from '../../helpers/exampleScript.js';
import { startOpenAiServer, type OpenAiServer, type ScriptedFailure, type ScriptedReply } from '../../helpers/openAiServer.js';
import { EXAMPLE_DIR, exampleRepo } from '../../helpers/tempRepo.js';

const ISSUE = readFileSync(path.join(EXAMPLE_DIR, 'issue.md'), 'utf8');
const bash = (cmd: string): ScriptedReply => ({ content: `run\n<function=execute_bash>\n<parameter=cmd>${cmd}</parameter>\n</function>` });

describe('runAgent', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0)) await c(); });

  async function setup(responses: ScriptedReply[], options: { format?: 'text' | 'tools'; limits?: Partial<Limits>; baseUrl?: string; failures?: (ScriptedFailure | undefined)[] } = {}) {
    const repo = exampleRepo();
    cleanups.push(repo.cleanup);
    let server: OpenAiServer | undefined;
    if (!options.baseUrl) {
      server = await startOpenAiServer({ responses, failures: options.failures });
      cleanups.push(() => server!.close());
    }
    const model = new OpenAiModel({ baseUrl: options.baseUrl ?? server!.url, model: 'test-model', apiKey: 'sk-test', maxRetries: 1, requestTimeoutMs: 5_000 });
    const events = new Emitter<AgentEvent>();
    const trajectoryFile = path.join(repo.dir, '..', `${path.basename(repo.dir)}.trajectory.jsonl`);
    cleanups.push(() => rmSync(trajectoryFile, { force: true }));
    const base = {
      model, workspace: new NodeWorkspace(repo.dir), runner: new NodeProcessRunner(), issue: ISSUE, events, trajectoryFile,
      config: resolveConfig({ format: options.format ?? 'text', limits: options.limits }),
    };
    return { repo: repo.dir, server, events, trajectoryFile, base };
  }

  it('records a text-format call cut at its </function> stop as the complete call it was', async () => {
    const cut = { content: 'look\n<function=execute_bash>\n<parameter=cmd>echo hi</parameter>\n', finishReason: 'stop' };
    const { server, base } = await setup([cut, { content: '<function=finish>\n<parameter=command>submit</parameter>\n', finishReason: 'stop' }]);
    const result = await runAgent(base);
    expect(result.exitReason).toBe('submitted');
    expect(result.steps[0].action).toEqual({ tool: 'execute_bash', args: { cmd: 'echo hi' } });
    expect(result.messages[2].content).toBe(`${cut.content}</function>`);
    const second = server!.requests[1].body.messages as { content: string }[];
    expect(second[2].content).toBe(`${cut.content}</function>`);
  });

  it('condenses to the window a server reports when it refuses a request as too long, then goes on', async () => {
    const message = 'request (5200 tokens) exceeds the available context size (4096 tokens), try increasing it';
    const finish = { content: '<function=finish>\n<parameter=command>submit</parameter>\n</function>' };
    // The second request carries a 10,000-character observation; the server refuses it once
    const { server, base } = await setup([bash("printf 'y%.0s' $(seq 12000)"), finish],
      { failures: [undefined, { status: 400, body: { error: { message, type: 'exceed_context_size_error' } } }] });
    const result = await runAgent(base);
    expect(result.exitReason).toBe('submitted');
    expect(result.steps).toHaveLength(2);
    const sent = server!.requests.map((r) => JSON.stringify(r.body.messages));
    expect(sent).toHaveLength(3);
    expect(sent[1]).toContain('y'.repeat(4_000));
    expect(sent[2]).not.toContain('y'.repeat(4_000));
    expect(sent[2]).toMatch(/characters of this observation condensed to fit the context/);
    // The trajectory keeps what the tool returned; only what was sent was condensed
    expect(result.messages[3].content).toContain('y'.repeat(4_000));
  });

  for (const format of ['text', 'tools'] as const) {
    it(`fixes the example end to end over real HTTP (${format} format) and its tests pass`, async () => {
      const { repo, server, base, trajectoryFile } = await setup(exampleReplies('fix-ceil', format), { format });
      const result = await runAgent(base);
      expect(result.exitReason).toBe('submitted');
      expect(result.result).toBe('page_count rounds up, so a partial last page counts.');
      expect(result.steps).toHaveLength(7);
      expect(result.steps.filter((s) => s.formatError)).toHaveLength(0);
      expect(readFileSync(path.join(repo, 'pager/core.py'), 'utf8')).toContain('return (total + per_page - 1) // per_page');
      expect(result.steps[3].observation).toContain('3 0 0');
      expect(result.steps[5].observation).toMatch(/Exit code: 0[\s\S]*OK/);
      execFileSync('python3', ['-m', 'unittest', '-q'], { cwd: repo, stdio: 'pipe' });
      const requests = server!.requests.filter((r) => r.path.endsWith('/chat/completions'));
      expect(requests).toHaveLength(7);
      expect(requests[0].body.temperature).toBe(0.7);
      expect(requests[0].body.top_p).toBe(0.8);
      const last = requests[6].body.messages as { role: string; content: string; tool_call_id?: string }[];
      expect(last[1].content).toContain('page_count(31, 10)');
      if (format === 'tools') {
        expect(requests[0].body.tools).toHaveLength(4);
        expect(last.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(['call_0', 'call_1', 'call_2', 'call_3', 'call_4', 'call_5']);
      } else {
        expect(requests[0].body.tools).toBeUndefined();
        expect(last[0].content).toContain('<function=example_function_name>');
        expect(requests.every((r) => JSON.stringify(r.body.stop) === '["</function>"]')).toBe(true);
      }
      const trajectory = await readTrajectory(trajectoryFile);
      expect(trajectory.header.config.format).toBe(format);
      expect(trajectory.steps).toHaveLength(7);
      expect(trajectory.end).toMatchObject({ exitReason: 'submitted', steps: 7 });
      expect(trajectory.end!.usage.promptTokens).toBeGreaterThan(0);
      expect(trajectory.tornTail).toBe(false);
    });
  }

  it('adds no listeners per step: a 100-step rollout over HTTP, streamed, with commands, and no MaxListenersExceededWarning', async () => {
    const replies: ScriptedReply[] = Array.from({ length: 99 }, (_, i) => ({ toolCalls: [{ name: 'execute_bash', arguments: JSON.stringify({ cmd: `echo step ${i}` }) }] }));
    replies.push({ toolCalls: [{ name: 'finish', arguments: JSON.stringify({ command: 'submit', result: 'done' }) }] });
    const { base, server } = await setup(replies, { format: 'tools', limits: { maxSteps: 100 } });
    const streamed = new OpenAiModel({ baseUrl: server!.url, model: 'test-model', stream: true });
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    let result;
    try {
      result = await runAgent({ ...base, model: streamed, signal: controller.signal });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(result.exitReason).toBe('submitted');
    expect(result.steps).toHaveLength(100);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });

  it('writes a valid trajectory after every step', async () => {
    const { base, events, trajectoryFile } = await setup(exampleReplies('fix-ceil', 'text'));
    const seen: number[] = [];
    events.subscribe((event) => {
      if (event.type !== 'step') return;
      const lines = readFileSync(trajectoryFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
      expect(lines[0].type).toBe('header');
      seen.push(lines.filter((l) => l.type === 'step').length);
    });
    await runAgent(base);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('turns malformed output into observations and ends after three in a row', async () => {
    const { base, server } = await setup([
      { content: 'no action at all' },
      bash('echo recovered'),
      { content: '<function=nope><parameter=x>1</parameter></function>' },
      { content: '<function=execute_bash><parameter=command>ls</parameter></function>' },
      { content: '<function=search><parameter=search_term>a</parameter></function> <function=search><parameter=search_term>b</parameter></function>' },
    ]);
    const result = await runAgent(base);
    expect(result.exitReason).toBe('format_error');
    expect(result.steps.map((s) => s.formatError)).toEqual([true, false, true, true, true]);
    expect(result.steps[0].observation).toMatch(/^ERROR: No function call found/);
    expect(result.steps[1].observation).toContain('recovered');
    expect(result.message).toMatch(/3 malformed actions in a row; last: ERROR: Found 2 function calls/);
    const observations = (server!.requests[4].body.messages as { role: string; content: string }[]).filter((m) => m.role === 'user').slice(1);
    expect(observations[2].content).toMatch(/Unknown tool nope/);
    expect(observations[3].content).toMatch(/Unknown parameter command for execute_bash/);
  });

  it.each<['text' | 'tools', ScriptedReply]>([
    ['text', { content: 'I will write the whole file:\n<function=file_editor>\n<parameter=command>create</parameter>\n<parameter=path>pager/core.py</parameter>\n<parameter=file_text>def page_count(', finishReason: 'length' }],
    ['tools', { toolCalls: [{ name: 'file_editor', arguments: '{"command": "create", "path": "pager/core.py", "file_text": "def page_count(' }], finishReason: 'length' }],
  ])('says an answer cut off at the token limit was cut (%s format), and a rollout of such answers ends at that limit, not as a format error', async (format, cut) => {
    const { base, server, trajectoryFile } = await setup([cut, cut, cut], { format, limits: { maxNewTokens: 64 } });
    const result = await runAgent(base);
    expect(result.exitReason).toBe('limits_exceeded');
    expect(result.message).toBe('Answer length limit reached: 3 answers in a row without a usable action, the last cut off at 64 tokens before its action was complete; '
      + 'raise --max-new-tokens or entropo.maxNewTokens to allow longer answers.');
    expect(result.steps.map((s) => s.observation.split('\n')[0])).toEqual(Array(3).fill('ERROR: The answer was cut off at 64 tokens, the most one answer may have '
      + '(--max-new-tokens or entropo.maxNewTokens), before its action was complete. Write less before the action, and split a long edit or file into smaller ones.'));
    expect(server!.requests.map((r) => r.body.max_tokens)).toEqual([64, 64, 64]);
    expect((await readTrajectory(trajectoryFile)).end).toMatchObject({ exitReason: 'limits_exceeded', message: result.message });
  });

  it('says so when what cut the answer was the room the context left, and names that setting', async () => {
    const cut: ScriptedReply = { content: 'Thinking at length about page_count', finishReason: 'length' };
    const { base, server } = await setup([cut, cut, cut], { limits: { maxContextTokens: 4096 } });
    const result = await runAgent(base);
    const sent = server!.requests.at(-1)!.body.max_tokens as number;
    expect(sent).toBeLessThan(base.config.limits.maxNewTokens);
    expect(result.exitReason).toBe('limits_exceeded');
    expect(result.message).toBe(`Answer length limit reached: 3 answers in a row without a usable action, the last cut off at ${sent} tokens before its action was complete; `
      + 'the context window (4096 tokens) left no more for an answer; raise --max-context-tokens or entropo.maxContextTokens if the model\'s window is larger.');
    expect(result.steps[2].observation).toMatch(new RegExp(`^ERROR: The answer was cut off at ${sent} tokens, all the room the context left for an answer, before`));
  });

  it('ends with a clear model error when the endpoint is dead', async () => {
    const { base, trajectoryFile } = await setup([], { baseUrl: 'http://127.0.0.1:9/v1' });
    const result = await runAgent(base);
    expect(result.exitReason).toBe('model_error');
    expect(result.message).toContain('127.0.0.1:9');
    expect(result.steps).toHaveLength(0);
    expect((await readTrajectory(trajectoryFile)).end?.exitReason).toBe('model_error');
  });

  it('stops at the step limit and counts the steps remaining', async () => {
    const { base } = await setup([bash('echo 1'), bash('echo 2'), bash('echo 3')], { limits: { maxSteps: 2 } });
    const result = await runAgent(base);
    expect(result.exitReason).toBe('limits_exceeded');
    expect(result.message).toMatch(/Step limit reached \(2 steps\)/);
    expect(result.steps.map((s) => s.observation.split('\n').pop())).toEqual(['Steps remaining: 1', 'Steps remaining: 0']);
  });

  it('stops at the token limit once prompt plus completion tokens reach it', async () => {
    const usage = { prompt_tokens: 1_000, completion_tokens: 100 };
    const { base } = await setup([1, 2, 3, 4, 5].map((n) => ({ ...bash(`echo ${n}`), usage })), { limits: { maxTotalTokens: 2_500 } });
    const result = await runAgent(base);
    expect(result.exitReason).toBe('limits_exceeded');
    expect(result.message).toBe('Token limit reached (3300 of 2500 tokens).');
    expect(result.steps).toHaveLength(3);
    expect(result.usage).toMatchObject({ promptTokens: 3_000, completionTokens: 300 });
  });

  it('is cancelled cleanly mid-command, leaving a valid trajectory', async () => {
    const { base, events, trajectoryFile } = await setup([bash('echo one'), bash('sleep 30'), bash('echo never')]);
    const controller = new AbortController();
    events.subscribe((e) => { if (e.type === 'step' && e.step.index === 0) setTimeout(() => controller.abort(), 300); });
    const started = Date.now();
    const result = await runAgent({ ...base, signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.exitReason).toBe('cancelled');
    expect(result.steps).toHaveLength(1);
    const trajectory = await readTrajectory(trajectoryFile);
    expect(trajectory.steps).toHaveLength(1);
    expect(trajectory.end?.exitReason).toBe('cancelled');
  });

  it('condenses the longest observations to fit the context and keeps the issue', async () => {
    const { base, server, repo } = await setup([bash('cat big.txt'), bash('cat big.txt'), bash('echo small'), bash('echo last')], {
      limits: { maxContextTokens: 5_000, maxNewTokens: 1_000, maxSteps: 4 },
    });
    writeFileSync(path.join(repo, 'big.txt'), 'lorem ipsum '.repeat(3000));
    const result = await runAgent(base);
    expect(result.exitReason).toBe('limits_exceeded');
    const sent = server!.requests.map((r) => r.body.messages as { role: string; content: string }[]);
    expect(sent).toHaveLength(4);
    for (const messages of sent) expect(messages[1].content).toContain(ISSUE.trim());
    expect(sent[3].filter((m) => m.content.includes('condensed to fit the context')).length).toBeGreaterThan(0);
    expect(result.messages.filter((m) => m.content.includes('condensed to fit'))).toHaveLength(0);
  });

  it('refuses before any rollout an issue that cannot fit the context with the system prompt, and only such an issue', () => {
    const config = resolveConfig({ format: 'text', limits: { maxContextTokens: 8192, maxNewTokens: 1024 } });
    // 7,168 tokens for the prompt: 30k characters are about 9k tokens at any tokenizer's rate, 10k about 3k.
    expect(() => refuseIssueTooLarge('x '.repeat(20_000), config)).toThrow(/^The issue is too long for the model's context: with the system prompt it is at least \d+ tokens, and a context of 8192 tokens leaves 7168 for the prompt\. Shorten the issue, or raise --max-context-tokens or entropo\.maxContextTokens/);
    expect(() => refuseIssueTooLarge('x '.repeat(5_000), config)).not.toThrow();
  });
});
