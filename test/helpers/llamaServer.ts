/**
 * llama.cpp's server with a small real instruct model (SmolLM2-135M-Instruct), built and installed by
 * scripts/llama-setup.sh, for the tests that need a real model behind the OpenAI protocol.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { isDroppedConnection } from '../../src/core/llm/serverProfile.js';
import { freePort } from './freePort.js';
import { PROJECT_ROOT } from './tempRepo.js';

/** The built server and the model file. */
export interface LlamaSetup { server: string; model: string }

const SETUP = path.join(PROJECT_ROOT, 'scripts', 'llama-setup.sh');
/** The setup's exit code for a machine that lacks a prerequisite. */
const LACKING = 5;

/** Options of one server: llama-server's own flags, in the project's words. */
export interface LlamaServerOptions {
  /** Context tokens of the whole server, shared by its slots (default 8192, the model's training context). */
  contextTokens?: number;
  /** Requests decoded at once (default 1). */
  parallel?: number;
  /** LoRA adapters in GGUF, loaded at start with scale 1. */
  lora?: string[];
  /** The model name the API reports (default "smollm2"). */
  alias?: string;
}

/** A running server: `url` ends in /v1, `root` is the server's own API (/health, /tokenize, /lora-adapters). */
export interface LlamaServer {
  url: string;
  root: string;
  alias: string;
  /** The last lines the server logged. */
  log(): string;
  close(): Promise<void>;
}

/** Starts llama-server on a free loopback port in its own process group and waits until it is healthy. */
export async function startLlamaServer(setup: LlamaSetup, options: LlamaServerOptions = {}): Promise<LlamaServer> {
  // A port found free can be taken before the server binds it; another one is then tried.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(setup, options, await freePort());
    } catch (error) {
      if (attempt >= 3 || !/bind|address already in use/i.test(String(error))) throw error;
    }
  }
}

async function startOnce(setup: LlamaSetup, options: LlamaServerOptions, port: number): Promise<LlamaServer> {
  const alias = options.alias ?? 'smollm2';
  const args = ['--model', setup.model, '--host', '127.0.0.1', '--port', String(port), '--alias', alias,
    '--ctx-size', String(options.contextTokens ?? 8192), '--parallel', String(options.parallel ?? 1),
    ...(options.lora?.length ? ['--lora', options.lora.join(',')] : [])];
  const child = spawn(setup.server, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 400) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`llama-server exited (${code ?? signal}): ${lines.slice(-8).join(' | ')}`)));
  const root = `http://127.0.0.1:${port}`;
  const server: LlamaServer = { url: `${root}/v1`, root, alias, log: () => lines.join('\n'), close: () => stop(child) };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const state = await Promise.race([health(root), exited, sleep(250).then(() => 'waiting')]);
    if (state === 'ok') return server;
    if (state.startsWith('llama-server exited')) throw new Error(state);
  }
  await stop(child);
  throw new Error(`llama-server did not become healthy within 120 s: ${lines.slice(-8).join(' | ')}`);
}

async function health(root: string): Promise<string> {
  try {
    const response = await fetch(`${root}/health`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? 'ok' : 'waiting';
  } catch {
    return 'waiting';
  }
}

/** Stops the server's whole process group: SIGTERM, then SIGKILL after 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => { try { process.kill(-child.pid!, name); } catch { /* already gone */ } };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Next-token top logprobs of a prompt given as token ids (the server's own /completion API), keyed by token id. */
export async function nextTokenLogprobs(server: LlamaServer, prompt: number[], loraScale?: number): Promise<Map<number, number>> {
  const body = { prompt, n_predict: 1, n_probs: 40, temperature: 0, cache_prompt: false,
    ...(loraScale === undefined ? {} : { lora: [{ id: 0, scale: loraScale }] }) };
  const json = await ask(server, '/completion', body) as { completion_probabilities: { top_logprobs: { id: number; logprob: number }[] }[] };
  return new Map(json.completion_probabilities[0].top_logprobs.map((t) => [t.id, t.logprob]));
}

/** The server's tokens for `text`, special tokens (<|im_start|>) parsed. */
export async function tokenize(server: LlamaServer, text: string): Promise<number[]> {
  return (await ask(server, '/tokenize', { content: text, add_special: true, parse_special: true }) as { tokens: number[] }).tokens;
}

/**
 * Asks the server's own API: POST with a body, GET without. These routes change nothing, so a request is sent
 * once more when the server closed the kept-alive connection just as it was reused ("other side closed"), as
 * the product's client does.
 */
async function ask(server: LlamaServer, route: string, body?: unknown): Promise<unknown> {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const send = () => fetch(`${server.root}${route}`, init);
  const response = await send().catch((error: unknown) => {
    if (isDroppedConnection(error)) return send();
    throw error;
  });
  if (!response.ok) throw new Error(`${route} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** The adapters the server has loaded. */
export async function loraAdapters(server: LlamaServer): Promise<{ id: number; path: string; scale: number }[]> {
  return await ask(server, '/lora-adapters') as { id: number; path: string; scale: number }[];
}

/**
 * The setup for a test file, known before its tests are collected (so that `describe.skipIf` can use it):
 * the paths, or `skip`, why the real-model tests cannot run on this machine. Instant when the setup is
 * cached, which the test script makes sure of; a file run alone on a fresh checkout builds here first.
 */
export function llamaForTests(): { setup?: LlamaSetup; skip?: string } {
  const result = spawnSync('bash', [SETUP], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status === LACKING) {
    const reason = result.stderr.trim().split('\n').at(-1)?.replace(/^llama-setup: /, '') ?? 'a prerequisite is missing';
    console.warn(`Real-model tests skipped: ${reason}`);
    return { skip: reason };
  }
  if (result.status !== 0) throw new Error(`scripts/llama-setup.sh failed (${result.status ?? result.signal}): ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const [server, model] = result.stdout.trim().split('\n').slice(-2);
  return { setup: { server, model } };
}

/** The prompt llama.cpp's chat template makes of `messages`, tokenized by the server: the tokens a request costs. */
export async function promptTokens(server: LlamaServer, messages: { role: string; content: string }[]): Promise<number> {
  const { prompt } = await ask(server, '/apply-template', { messages }) as { prompt: string };
  return (await tokenize(server, prompt)).length;
}
