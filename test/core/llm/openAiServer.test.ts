import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OpenAiModel } from '../../../src/core/llm/openAiModel.js';
import { startOpenAiServer } from '../../helpers/openAiServer.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('scripted OpenAI server', () => {
  it('lists its models and answers unknown routes with 404', async () => {
    const server = await startOpenAiServer({ models: ['a', 'b'] });
    cleanups.push(() => server.close());
    const models = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['a', 'b']);
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
    expect(server.requests).toHaveLength(0);
  });

  it('answers past the end of its script with 400 naming the missing reply', async () => {
    const server = await startOpenAiServer({ responses: [] });
    cleanups.push(() => server.close());
    const response = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [] }) });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('no reply number 1');
    expect(server.requests).toHaveLength(1);
  });

  it('runs as a standalone process from a JSON script and writes what it received', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openai-server-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const scriptPath = join(dir, 'script.json');
    const requestsPath = join(dir, 'requests.json');
    await writeFile(scriptPath, JSON.stringify({ model: 'served-model', responses: [{ content: 'from a process' }] }));
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('test/helpers/openAiServerMain.ts'), scriptPath, requestsPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    cleanups.push(async () => void child.kill('SIGKILL'));
    const url = await firstLine(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);

    const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['served-model']);
    const answer = await new OpenAiModel({ baseUrl: url, model: 'served-model' }).complete({ messages: [{ role: 'user', content: 'ping' }] });
    expect(answer.content).toBe('from a process');

    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const received = JSON.parse(await readFile(requestsPath, 'utf8')) as { model: string; messages: unknown[] }[];
    expect(received).toHaveLength(1);
    expect(received[0].model).toBe('served-model');
    expect(received[0].messages).toEqual([{ role: 'user', content: 'ping' }]);
  });
});

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) done(out.split('\n')[0]);
    });
    child.once('exit', (code) => fail(new Error(`server exited with ${code}: ${err}`)));
  });
}
