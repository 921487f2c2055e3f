import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedModel } from '../../../src/core/llm/scriptedModel.js';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import type { Message } from '../../../src/core/types.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scripted-model-'));
  dirs.push(dir);
  return dir;
}

async function failure(promise: Promise<unknown>): Promise<AgentError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

const user = (content: string): Message => ({ role: 'user', content });

describe('ScriptedModel', () => {
  it('replays its steps in order and records copies of the requests', async () => {
    const model = new ScriptedModel([
      { content: 'first', toolCalls: [{ id: 'c1', name: 'search', arguments: '{"search_term":"foo"}' }] },
      (request, index) => ({ content: `echo ${request.messages.at(-1)?.content} #${index}`, usage: { promptTokens: 7, completionTokens: 2, costUsd: 0.5 } }),
    ], { name: 'replay' });
    const messages = [user('one')];
    const a = await model.complete({ messages, sampling: { temperature: 0.7 } });
    messages.push({ role: 'assistant', content: 'first' }, user('two'));
    const b = await model.complete({ messages });
    expect(model.name).toBe('replay');
    expect(a.content).toBe('first');
    expect(a.toolCalls).toEqual([{ id: 'c1', name: 'search', arguments: '{"search_term":"foo"}' }]);
    expect(a.finishReason).toBe('tool_calls');
    expect(a.usage).toEqual({ promptTokens: 1, completionTokens: Math.ceil('firstsearch{"search_term":"foo"}'.length / 4), costUsd: 0 });
    expect(b.content).toBe('echo two #1');
    expect(b.usage).toEqual({ promptTokens: 7, completionTokens: 2, costUsd: 0.5 });
    expect(model.requests).toHaveLength(2);
    expect(model.requests[0].messages).toEqual([user('one')]);
    expect(model.requests[0].sampling).toEqual({ temperature: 0.7 });
    expect(model.requests[1].messages).toHaveLength(3);
    expect(model.remaining).toBe(0);
  });

  it('throws ModelRejected when the script runs out', async () => {
    const model = new ScriptedModel([{ content: 'only' }], { name: 'short' });
    await model.complete({ messages: [user('a')] });
    const error = await failure(model.complete({ messages: [user('b')] }));
    expect(error.reason).toBe(ErrorReason.ModelRejected);
    expect(error.message).toBe('The scripted model "short" has no answer for call 2: its script has 1 step(s).');
    expect(model.requests).toHaveLength(2);
  });

  it('waits its delay and stops waiting when aborted', async () => {
    const model = new ScriptedModel([{ content: 'slow' }, { content: 'slow again' }], { delayMs: 150 });
    let started = Date.now();
    expect((await model.complete({ messages: [user('a')] })).content).toBe('slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const model2 = new ScriptedModel([{ content: 'never' }], { delayMs: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    started = Date.now();
    const error = await failure(model2.complete({ messages: [user('b')], signal: controller.signal }));
    expect(error.reason).toBe(ErrorReason.Cancelled);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses an already aborted call without using a step', async () => {
    const model = new ScriptedModel([{ content: 'kept' }]);
    const error = await failure(model.complete({ messages: [user('a')], signal: AbortSignal.abort() }));
    expect(error.reason).toBe(ErrorReason.Cancelled);
    expect(model.requests).toHaveLength(0);
    expect((await model.complete({ messages: [user('a')] })).content).toBe('kept');
  });

  it('loads a script file', async () => {
    const path = join(await tempDir(), 'script.json');
    await writeFile(path, JSON.stringify({
      model: 'qwen-replay',
      responses: [
        { content: 'Let me look.', toolCalls: [{ name: 'file_editor', arguments: { command: 'view', path: '.' } }] },
        { content: 'Done.', usage: { promptTokens: 100, completionTokens: 10 } },
      ],
    }));
    const model = await ScriptedModel.fromFile(path);
    expect(model.name).toBe('qwen-replay');
    const first = await model.complete({ messages: [user('go')] });
    expect(first.toolCalls).toEqual([{ id: 'call_0_0', name: 'file_editor', arguments: '{"command":"view","path":"."}' }]);
    const second = await model.complete({ messages: [user('go')] });
    expect(second.usage).toEqual({ promptTokens: 100, completionTokens: 10, costUsd: 0 });
    expect(model.remaining).toBe(0);
  });

  it('reports a malformed script file as a Config error naming the entry', async () => {
    const dir = await tempDir();
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ responses: [{ content: 'ok' }, { toolCalls: [] }] }));
    const error = await failure(ScriptedModel.fromFile(bad));
    expect(error.reason).toBe(ErrorReason.Config);
    expect(error.message).toContain('responses[1] needs a string "content"');

    const missing = await failure(ScriptedModel.fromFile(join(dir, 'absent.json')));
    expect(missing.reason).toBe(ErrorReason.Config);
    expect(missing.message).toContain('Cannot read the model script');
  });
});
