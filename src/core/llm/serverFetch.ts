/**
 * The fetch the OpenAI SDK uses for one model: error bodies rewritten into OpenAI's shape, and what the SDK's
 * own retries and parsing would hide remembered, so that a failed call can say what really happened.
 */
import { isAbort } from '../errors.js';

/** A successful answer whose body was not what the request asked for (an HTML page where the API was meant). */
export interface ForeignBody {
  contentType: string;
  /** The body's first 80 characters, whitespace folded. */
  start: string;
  at: number;
}

/** One model's fetch; `fetch` is what the SDK gets, the other members answer for calls that began at `began`. */
export class ServerFetch {
  /** The last request that got no answer at all (refused, reset), and when: the SDK retries it unseen. */
  private unreached: { cause: string; at: number } | undefined;
  /** The last request answered with another kind of body than asked for, and when. */
  private foreign: ForeignBody | undefined;

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await normalizingFetch(input, init).catch((error: unknown) => {
      if (error instanceof Error && !isAbort(error)) this.unreached = { cause: rootCause(error), at: Date.now() };
      throw error;
    });
    // The SDK reads such a body as a stream of no events, or as a completion without choices; what it was
    // is worth saying.
    const contentType = response.headers.get('content-type') ?? '(none)';
    const streamed = typeof init?.body === 'string' && init.body.includes('"stream":true');
    if (response.ok && !contentType.includes(streamed ? 'text/event-stream' : 'json')) {
      const start = (await response.clone().text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 80);
      this.foreign = { contentType, start, at: Date.now() };
    }
    return response;
  };

  /** Why a request of a call that began at `began` reached no server, when one failed so. */
  unreachedSince(began: number): string | undefined {
    return this.unreached && this.unreached.at >= began ? this.unreached.cause : undefined;
  }

  /** The body of another kind than asked for that a call that began at `began` received, if any. */
  foreignSince(began: number): ForeignBody | undefined {
    return this.foreign && this.foreign.at >= began ? this.foreign : undefined;
  }
}

/**
 * Rewrites error bodies into OpenAI's `{error: {message}}` shape: vLLM and FastAPI servers answer
 * `{message}` or `{detail}`, which the SDK would reduce to "status code (no body)".
 */
async function normalizingFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (response.ok) return response;
  const text = await response.text().catch(() => '');
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  headers.set('content-type', 'application/json');
  const body = JSON.stringify({ error: { message: errorText(text) } });
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

function errorText(text: string): string {
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const error = json.error;
    const candidate = typeof error === 'string' ? error
      : error && typeof error === 'object' && 'message' in error ? (error as { message: unknown }).message
        : json.message ?? json.detail;
    if (candidate !== undefined) return typeof candidate === 'string' ? candidate : JSON.stringify(candidate);
  } catch {
    // Not JSON: a proxy's HTML page or plain text, shown as is below.
  }
  return text.trim().slice(0, 1000) || '(empty body)';
}

/** The innermost cause's message: undici's "fetch failed" hides the ECONNREFUSED under it. */
export function rootCause(error: Error): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
