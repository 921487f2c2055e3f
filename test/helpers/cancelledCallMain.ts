/**
 * One model call that is cancelled, as its own process, for tests of what a cancel leaves behind:
 *   node --import tsx test/helpers/cancelledCallMain.ts BASE_URL ABORT_AFTER_MS
 * Prints the failure's reason and returns without process.exit: the process ends only when nothing is left
 * that holds the event loop (a pending wait for a retry would).
 */
import { AgentError } from '../../src/core/errors.js';
import { OpenAiModel } from '../../src/core/llm/openAiModel.js';

async function main(): Promise<void> {
  const [baseUrl, afterMs] = process.argv.slice(2);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), Number(afterMs)).unref();
  const model = new OpenAiModel({ baseUrl, model: 'scripted-model' });
  const outcome = await model.complete({ messages: [{ role: 'user', content: 'Hi' }], signal: controller.signal })
    .then(() => 'answered', (error: unknown) => (error instanceof AgentError ? error.reason : String(error)));
  process.stdout.write(`${outcome}\n`);
}

void main();
