/**
 * Runs the scripted OpenAI-compatible server as its own process, for end-to-end tests:
 *   node --import tsx test/helpers/openAiServerMain.ts script.json [requests.json]
 * The script file is an OpenAiServerScript as JSON (`model` is shorthand for `models: [model]`). The base
 * URL is printed as the first line on stdout. On SIGTERM or SIGINT the received request bodies are written
 * to the optional second argument and the process exits.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { startOpenAiServer, type OpenAiServerScript } from './openAiServer.js';

async function main(): Promise<void> {
  const [scriptPath, requestsPath] = process.argv.slice(2);
  if (!scriptPath) {
    process.stderr.write('usage: openAiServerMain.ts SCRIPT.json [REQUESTS_OUT.json]\n');
    process.exit(2);
  }
  const parsed = JSON.parse(await readFile(scriptPath, 'utf8')) as OpenAiServerScript & { model?: string };
  const script: OpenAiServerScript = { ...parsed, models: parsed.models ?? (parsed.model ? [parsed.model] : undefined) };
  const server = await startOpenAiServer(script);
  process.stdout.write(`${server.url}\n`);
  const stop = async () => {
    await server.close();
    if (requestsPath) await writeFile(requestsPath, JSON.stringify(server.requests.map((r) => r.body), null, 2));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`openAiServerMain: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
