import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startOpenAiServer, type OpenAiServer, type ScriptedReply } from '../helpers/openAiServer.js';

/** The port test/vscode/settings.json points the extension at. */
export const FIXTURE_PORT = 47_811;
/** The base seed in test/vscode/settings.json: rollout k samples with seed 100 + k. */
const BASE_SEED = 100;
const SCRIPTS = ['fix-ceil', 'fix-math-ceil', 'fix-plus-one', 'fix-range-check'];

/**
 * A scripted OpenAI server for the example: it answers rollout k (known from the request's seed) with the
 * k-th recorded script, step by step, so rollouts may run concurrently. `delayMs` slows every answer; with
 * `apiKey`, a request without `Authorization: Bearer <apiKey>` gets 401.
 */
export async function startFixtureServer(exampleDir: string, options: { delayMs?: number; apiKey?: string } = {}): Promise<OpenAiServer> {
  const scripts = SCRIPTS.map((name) => (JSON.parse(readFileSync(path.join(exampleDir, 'scripted', `${name}.json`), 'utf8')) as { responses: ScriptedReply[] }).responses);
  return startOpenAiServer({
    port: FIXTURE_PORT,
    models: ['scripted'],
    apiKey: options.apiKey,
    responses: (body) => {
      const rollout = Number(body.seed ?? BASE_SEED) - BASE_SEED;
      const script = scripts[((rollout % scripts.length) + scripts.length) % scripts.length];
      const step = (body.messages ?? []).filter((m) => (m as { role?: string }).role === 'assistant').length;
      return { ...(script[step] ?? { content: 'The script is over.' }), delayMs: options.delayMs };
    },
  });
}
