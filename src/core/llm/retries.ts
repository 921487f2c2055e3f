/**
 * The model client's retries. The SDK's own sleep between attempts listens to no signal and holds the event
 * loop: after a cancel, or once the CLI has printed its last line, the process would stay alive until a
 * server's Retry-After (30 s, an hour) ran out. These waits end the moment the call's signal fires.
 */
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { AgentError, ErrorReason } from '../errors.js';

// setTimeout fires at once for anything longer (and warns); the call's deadline ends such a wait first.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** What the attempts of one call met so far, for the message of its failure. */
export interface RetryState {
  /** Attempts started. */
  attempts: number;
  /** The last answer with an HTTP error status, if an attempt got one. */
  statusError?: APIError;
  /** True between attempts: the call was waiting to try again, not for an answer. */
  waiting: boolean;
  /** The wait the server asked for that would have outlasted the deadline, so that the call ended at once instead. */
  refusedWaitMs?: number;
}

/** A fresh state for one call. */
export function retryState(): RetryState {
  return { attempts: 0, waiting: false };
}

/** How one call retries. */
export interface RetryOptions {
  maxRetries: number;
  /** Ends the waits and the attempts: the caller's cancel or the call's deadline. */
  signal: AbortSignal;
  /** When the call's deadline passes (ms since the epoch): a server that asks to wait past it is not waited for. */
  deadline: number;
  state: RetryState;
}

/**
 * Runs `attempt` (given the number of earlier tries) until it succeeds, fails in a way a retry cannot mend,
 * or `maxRetries` retries are spent. It waits as long as the server asks (Retry-After), else 0.5 s doubling
 * up to 8 s, less up to a quarter of jitter; the retried failures are 408, 409, 429, 5xx and no connection.
 * `state` tells afterwards what the attempts met.
 */
export async function withRetries<T>(attempt: (retry: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal, state } = options;
  for (let retry = 0; ; retry++) {
    state.attempts++;
    state.waiting = false;
    try {
      return await attempt(retry);
    } catch (error) {
      if (error instanceof APIError && typeof error.status === 'number') state.statusError = error;
      if (signal.aborted || retry >= options.maxRetries || !retryable(error)) throw error;
      const asked = serverWaitMs(error);
      // Waiting would only end in the deadline's failure, with the server's answer untold.
      if (asked !== undefined && Date.now() + asked > options.deadline) {
        state.refusedWaitMs = asked;
        throw error;
      }
      state.waiting = true;
      await pause(Math.min(asked ?? backoffMs(retry), LONGEST_TIMER_MS), signal);
    }
  }
}

/** How long the server asked to wait before the next attempt (retry-after-ms, else Retry-After in seconds or as a date). */
export function serverWaitMs(error: unknown): number | undefined {
  const headers = error instanceof APIError ? error.headers : undefined;
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const after = headers?.get('retry-after')?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Number.parseFloat(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function retryable(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError) || typeof error.status !== 'number') return false;
  const told = error.headers?.get('x-should-retry');
  if (told === 'true' || told === 'false') return told === 'true';
  return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
}

function backoffMs(retry: number): number {
  return Math.min(500 * 2 ** retry, 8000) * (1 - Math.random() * 0.25);
}

/** Resolves after `ms`, or rejects with Cancelled as soon as `signal` fires; either way no timer is left. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AgentError(ErrorReason.Cancelled, 'model call cancelled'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
