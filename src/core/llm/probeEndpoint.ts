/** Quick questions to an OpenAI-compatible endpoint while a user sets it up: which models, and does one answer. */
import OpenAI, { APIError } from 'openai';

const PROBE_TIMEOUT_MS = 10_000;

function client(baseUrl: string, apiKey?: string): OpenAI {
  // No retries: a person is waiting, and the answer is only advice.
  return new OpenAI({ baseURL: baseUrl, apiKey: apiKey || 'none', timeout: PROBE_TIMEOUT_MS, maxRetries: 0 });
}

/** The model ids the endpoint lists (`GET /models`), or why it could not say. */
export async function listModels(baseUrl: string, apiKey?: string): Promise<{ models: string[] } | { error: string }> {
  try {
    const models: string[] = [];
    for await (const model of client(baseUrl, apiKey).models.list()) models.push(model.id);
    return { models };
  } catch (error) {
    return { error: describe(error, baseUrl) };
  }
}

/** Asks `model` for one token: resolves with how long the answer took, or why there was none. */
export async function testModel(baseUrl: string, model: string, apiKey?: string): Promise<{ ok: true; ms: number } | { ok: false; error: string }> {
  const started = Date.now();
  try {
    await client(baseUrl, apiKey).chat.completions.create({ model, messages: [{ role: 'user', content: 'Reply with OK.' }], max_tokens: 1 });
    return { ok: true, ms: Date.now() - started };
  } catch (error) {
    return { ok: false, error: describe(error, baseUrl) };
  }
}

function describe(error: unknown, baseUrl: string): string {
  if (error instanceof APIError && error.status !== undefined) {
    const hint = error.status === 401 || error.status === 403 ? ' (check the API key)' : error.status === 404 ? ' (check the URL and the model name)' : '';
    return `${baseUrl} answered HTTP ${error.status}${hint}`;
  }
  return `cannot reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`;
}
