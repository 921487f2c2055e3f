/**
 * Which OpenAI-compatible server is on the other end, and how it spells the sampling extras that are not
 * part of the OpenAI API. The design's diversity defaults (top_k 20, repetition penalty 1.05) are sent
 * only where the server accepts them, in its own spelling; elsewhere they are left out rather than
 * rejected by a strict server or silently ignored by a lax one.
 */

/** The servers whose extras are known. `other` gets only standard OpenAI parameters. */
export type ServerKind = 'vllm' | 'sglang' | 'llama.cpp' | 'llama-cpp-python' | 'ollama' | 'lmstudio' | 'other';

/** Sampling preferences beyond the OpenAI API. */
export interface SamplingExtras {
  topK?: number;
  repetitionPenalty?: number;
  seed?: number;
}

/** The design's defaults for diverse rollouts (section 3). */
export const DEFAULT_EXTRAS: SamplingExtras = { topK: 20, repetitionPenalty: 1.05 };

/**
 * Each server's parameter names for the extras; a missing name means the server has no such knob. A server
 * that does not know a name ignores it silently (llama.cpp's server drops vLLM's `repetition_penalty`
 * without a word), so the wrong spelling is worse than none.
 */
export const EXTRA_NAMES: Record<ServerKind, { topK?: string; repetitionPenalty?: string; seed?: string }> = {
  vllm: { topK: 'top_k', repetitionPenalty: 'repetition_penalty', seed: 'seed' },
  sglang: { topK: 'top_k', repetitionPenalty: 'repetition_penalty', seed: 'seed' },
  'llama.cpp': { topK: 'top_k', repetitionPenalty: 'repeat_penalty', seed: 'seed' },
  'llama-cpp-python': { topK: 'top_k', repetitionPenalty: 'repeat_penalty', seed: 'seed' },
  // Ollama's OpenAI-compatible endpoint takes the seed but neither of the others (only its native API does)
  ollama: { seed: 'seed' },
  lmstudio: { topK: 'top_k', repetitionPenalty: 'repeat_penalty', seed: 'seed' },
  // OpenAI's own API has `seed`; hosted look-alikes that lack it ignore it
  other: { seed: 'seed' },
};

/**
 * How a server continues a reply the client has begun (a prefill), which the LLM judge uses to make the very
 * next token its verdict: `trailing` continues a final assistant message as it is (llama.cpp's server,
 * Ollama), `continue_final_message` needs vLLM's flag of that name (SGLang takes the same). Without one,
 * a final assistant message is closed and answered anew, so the judge asks and searches the answer instead.
 */
export const PREFILL: Record<ServerKind, 'trailing' | 'continue_final_message' | undefined> = {
  vllm: 'continue_final_message',
  sglang: 'continue_final_message',
  'llama.cpp': 'trailing',
  'llama-cpp-python': undefined,
  ollama: 'trailing',
  lmstudio: undefined,
  other: undefined,
};

/** The body fields that carry `extras` for a server of `kind`. */
export function extrasFor(kind: ServerKind, extras: SamplingExtras): Record<string, number> {
  const names = EXTRA_NAMES[kind];
  const out: Record<string, number> = {};
  if (names.topK && extras.topK !== undefined) out[names.topK] = extras.topK;
  if (names.repetitionPenalty && extras.repetitionPenalty !== undefined) out[names.repetitionPenalty] = extras.repetitionPenalty;
  if (names.seed && extras.seed !== undefined) out[names.seed] = extras.seed;
  return out;
}

/** Reads the server's kind from its `/models` answer (`owned_by`, server headers); `other` when unsure. */
export function classifyServer(models: unknown, headers: Headers): ServerKind {
  const server = (headers.get('server') ?? '').toLowerCase();
  if (server.includes('ollama')) return 'ollama';
  const data = (models as { data?: { owned_by?: unknown; id?: unknown }[] } | undefined)?.data;
  const owners = new Set((Array.isArray(data) ? data : []).map((m) => String(m?.owned_by ?? '').toLowerCase()));
  if (owners.has('vllm')) return 'vllm';
  if (owners.has('sglang')) return 'sglang';
  if (owners.has('llamacpp')) return 'llama.cpp';
  if (owners.has('library') || owners.has('ollama')) return 'ollama';
  if (owners.has('organization_owner')) return 'lmstudio';
  // llama-cpp-python's server answers owned_by "me" and reports no server header of its own
  if (owners.has('me') && server.includes('uvicorn')) return 'llama-cpp-python';
  return 'other';
}

/** Whether `fetch` failed because the server closed the connection under the request (a reused keep-alive one). */
export function isDroppedConnection(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } })?.cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}

/** How long the question may take: a server that does not answer it in time is `other`. */
const DETECT_TIMEOUT_MS = 5_000;

/**
 * Asks `baseUrl/models`; a server that does not answer it within 5 s, or before `signal` fires, is `other`.
 * A connection the server dropped as it was reused is asked once more, so that a keep-alive race never
 * changes the sampling parameters' spelling.
 */
export async function detectServer(baseUrl: string, apiKey?: string, signal?: AbortSignal): Promise<ServerKind> {
  const controller = new AbortController();
  // A timer of its own, and a race against it: a fetch that a silent server holds can miss a forwarded abort.
  const timer = setTimeout(() => controller.abort(), DETECT_TIMEOUT_MS);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) controller.abort();
  const gaveUp = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(new Error('no answer')), { once: true });
  });
  const ask = () => fetch(`${baseUrl.replace(/\/$/, '')}/models`, { headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {}, signal: controller.signal });
  try {
    const response = await Promise.race([ask().catch((error: unknown) => {
      if (isDroppedConnection(error)) return ask();
      throw error;
    }), gaveUp]);
    if (!response.ok) return 'other';
    return classifyServer(await Promise.race([response.json(), gaveUp]), response.headers);
  } catch {
    return 'other';
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    gaveUp.catch(() => undefined);
    controller.abort();
  }
}
