/**
 * Rollouts of a real model (SmolLM2-135M-Instruct on llama.cpp's server) in both action formats, and what an
 * 8k context does to them. The model fixes nothing; what is checked is the loop around it: real token
 * counts, the stop of the text format, usage summed per step, every malformed action turned into an
 * observation, and a context overflow that condenses or ends with a limit outcome, never a crash.
 */
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/agent/config.js';
import { initialMessages, runAgent } from '../../src/core/agent/runAgent.js';
import { runStep, type LoopState } from '../../src/core/agent/runStep.js';
import { readTrajectory } from '../../src/core/agent/trajectory.js';
import { wallClock } from '../../src/core/agent/wallClock.js';
import { createModelFactory } from '../../src/core/llm/createModel.js';
import { NodeWorkspace } from '../../src/core/node/nodeWorkspace.js';
import { createProcessRunner, type ContainedRunner } from '../../src/core/sandbox/createProcessRunner.js';
import { defaultTools } from '../../src/core/tools/defaultTools.js';
import type { Message, Model } from '../../src/core/types.js';
import { sandbox } from '../core/sandbox/helpers.js';
import { llamaForTests, promptTokens, startLlamaServer, type LlamaServer } from '../helpers/llamaServer.js';
import { EXAMPLE_DIR, exampleRepo } from '../helpers/tempRepo.js';
import { toolContext } from '../helpers/toolContext.js';

const { setup, skip } = llamaForTests();
// The model's commands are a real model's: they run only inside the sandbox
const why = skip ?? (sandbox.available ? undefined : `the model's commands need the sandbox: ${sandbox.reason}`);
const ISSUE = readFileSync(path.join(EXAMPLE_DIR, 'issue.md'), 'utf8');

describe.skipIf(why !== undefined)(`rollouts of SmolLM2-135M-Instruct on llama.cpp's server${why ? ` (skipped: ${why})` : ''}`, () => {
  let server: LlamaServer;
  let model: Model;
  const cleanups: (() => void | Promise<void>)[] = [];
  beforeAll(async () => {
    // Two slots of 8k tokens each: the model's own context, and two rollouts at once
    server = await startLlamaServer(setup!, { contextTokens: 16_384, parallel: 2 });
    model = (await createModelFactory({ kind: 'endpoint', baseUrl: server.url, model: server.alias }))(0);
  }, 180_000);
  afterAll(async () => {
    for (const c of cleanups.splice(0)) await c();
    await server?.close();
  });

  async function repoAndRunner(): Promise<{ repo: string; runner: ContainedRunner }> {
    const repo = exampleRepo();
    const runner = await createProcessRunner({ mode: 'required', sandbox: { writable: [repo.dir] } });
    cleanups.push(repo.cleanup, () => runner.dispose());
    return { repo: repo.dir, runner };
  }

  for (const format of ['text', 'tools'] as const) {
    it(`runs in the ${format} format: real token counts, usage per step, malformed actions as observations`, async () => {
      const { repo, runner } = await repoAndRunner();
      const trajectoryFile = path.join(repo, '..', `${path.basename(repo)}-${format}.jsonl`);
      cleanups.push(() => rmSync(trajectoryFile, { force: true }));
      const config = resolveConfig({ format, limits: { maxSteps: 3, maxNewTokens: 160, toolTimeoutMs: 20_000 }, sampling: { seed: 5 } });
      const result = await runAgent({ model, workspace: new NodeWorkspace(repo), runner, config, issue: ISSUE, trajectoryFile });
      expect(['submitted', 'limits_exceeded', 'format_error'], result.message).toContain(result.exitReason);
      expect(result.steps.length).toBeGreaterThanOrEqual(1);
      expect(result.steps.length).toBeLessThanOrEqual(3);
      // The first request is the system prompt and the issue; the server's tokenizer counts it exactly
      if (format === 'text') expect(result.steps[0].usage.promptTokens).toBe(await promptTokens(server, result.messages.slice(0, 2)));
      for (const [i, step] of result.steps.entries()) {
        expect(step.usage.completionTokens).toBeGreaterThan(0);
        expect(step.usage.completionTokens).toBeLessThanOrEqual(160);
        if (i > 0) expect(step.usage.promptTokens).toBeGreaterThan(result.steps[i - 1].usage.promptTokens);
        if (step.formatError) {
          expect(step.action).toBeNull();
          expect(step.observation).toMatch(/^ERROR: /);
        }
      }
      const sum = (key: 'promptTokens' | 'completionTokens') => result.steps.reduce((n, s) => n + s.usage[key], 0);
      expect(result.usage).toEqual({ promptTokens: sum('promptTokens'), completionTokens: sum('completionTokens'), costUsd: 0 });
      // Each step added the model's turn and the observation it was shown, in order
      expect(result.messages).toHaveLength(2 + 2 * result.steps.length);
      for (const [i, step] of result.steps.entries()) {
        const [assistant, shown] = result.messages.slice(2 + 2 * i, 4 + 2 * i);
        expect(assistant.role).toBe('assistant');
        expect(shown.content).toBe(step.observation);
        // The text format stops at </function>: a call is the end of its turn
        if (format === 'text' && assistant.content.includes('<function=')) expect(assistant.content.trimEnd()).toMatch(/<\/function>$/);
      }
      const saved = await readTrajectory(trajectoryFile);
      expect(saved.steps).toHaveLength(result.steps.length);
      expect(saved.end?.exitReason).toBe(result.exitReason);
    }, 300_000);
  }

  it('condenses the longest observation to the server\'s real window when a request is refused as too long', async () => {
    const { repo, runner } = await repoAndRunner();
    const log = Array.from({ length: 2500 }, (_, i) => `tests/test_core.py::test_case_${i} PASSED`).join('\n');
    // The default limits: 64k tokens of context, which this 8k server cannot hold
    const config = resolveConfig({ format: 'text', limits: { maxNewTokens: 64 }, sampling: { temperature: 0 } });
    const messages: Message[] = [
      ...initialMessages(ISSUE, config),
      { role: 'assistant', content: 'Let me run the tests.\n<function=execute_bash>\n<parameter=cmd>pytest -v</parameter>\n</function>' },
      { role: 'user', content: log },
    ];
    const state: LoopState = { messages, steps: [], usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 }, tokensPerChar: 0.3 };
    const wall = wallClock(undefined, 120_000);
    try {
      const record = await runStep({ state, config, model, tools: defaultTools, context: { ...toolContext(repo), runner }, wall });
      expect(state.serverContextTokens).toBe(8192);
      expect(record.step.usage.promptTokens).toBeLessThan(8192);
      expect(record.step.usage.completionTokens).toBeGreaterThan(0);
      // Only what was sent was condensed; the history keeps the whole observation
      expect(state.messages[3].content).toBe(log);
    } finally {
      wall.dispose();
    }
  }, 300_000);

  it('ends with a limit outcome that names the server\'s window when the issue alone does not fit', async () => {
    const { repo, runner } = await repoAndRunner();
    const pasted = `${ISSUE}\n\nThe full log:\n${Array.from({ length: 3000 }, (_, i) => `DEBUG pager.core: page ${i} of ${i + 1} rendered`).join('\n')}`;
    const config = resolveConfig({ format: 'text', limits: { maxNewTokens: 64, maxSteps: 2 } });
    const result = await runAgent({ model, workspace: new NodeWorkspace(repo), runner, config, issue: pasted });
    expect(result.exitReason).toBe('limits_exceeded');
    expect(result.message).toMatch(/^Context limit reached \(about \d+ of 8192 tokens after condensing; the server's context window is 8192 tokens\)\.$/);
    expect(result.steps).toHaveLength(0);
  }, 300_000);

});
