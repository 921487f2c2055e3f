/**
 * The message of a failed model call, written for the person who must act on it: what the server answered
 * (a rate limit, a server still loading, a refused key) is said as such, with its own words and the wait it
 * asked for; only a server that sent nothing within the request timeout is said not to have answered.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { AgentError, ErrorReason } from '../errors.js';
import { settingNames } from '../settings/resolveSettings.js';
import type { CallGuard } from './callGuard.js';
import { ContextOverflowError, parseContextOverflow } from './contextOverflow.js';
import { LastingFailure } from './lastingFailure.js';
import { serverWaitMs, type RetryState } from './retries.js';
import { rootCause } from './serverFetch.js';

/** What the message of one failed call says besides the error itself. */
export interface FailedCall {
  /** The base URL without credentials. */
  where: string;
  model: string;
  timeoutMs: number;
  /** The caller's signal: when it fired, the call was cancelled, whatever else failed. */
  signal: AbortSignal | undefined;
  guard: CallGuard;
  retries: RetryState;
  /** Why a request of this call reached no server at all, when one failed so. */
  unreached: string | undefined;
  /** Takes the API key out of a message: a server may echo it back (a bad-key message, a proxy's debug page). */
  scrub: (message: string) => string;
}

const CHECK_SERVER = 'check that the server is running and that the base URL is right (OpenAI-compatible servers usually end in /v1).';

/** The AgentError a failed call ends with, its message scrubbed of the API key. */
export function callFailure(error: unknown, call: FailedCall): AgentError {
  const described = describe(error, call);
  const message = call.scrub(described.message);
  if (message === described.message) return described;
  if (described instanceof ContextOverflowError) return new ContextOverflowError(message, described.contextTokens, described.promptTokens);
  return described instanceof LastingFailure ? new LastingFailure(described.reason, message) : new AgentError(described.reason, message);
}

function describe(error: unknown, call: FailedCall): AgentError {
  const { where, guard, retries } = call;
  const fail = (message: string) => new AgentError(ErrorReason.ModelUnavailable, message);
  const lasting = (message: string) => new LastingFailure(ErrorReason.ModelUnavailable, message);
  if (call.signal?.aborted) return new AgentError(ErrorReason.Cancelled, 'model call cancelled');
  // The deadline may end the retries of a server that refuses every connection: say that, not "slow".
  if (guard.timedOut && call.unreached) {
    return lasting(`Cannot reach the model server at ${where} (${call.unreached}; retried until the ${seconds(call.timeoutMs)} s request timeout); ${CHECK_SERVER}`);
  }
  // The deadline came while waiting to retry an error answer: the server did answer, with that.
  if (guard.timedOut && retries.waiting && retries.statusError) {
    return statusFailure(retries.statusError, call, `on ${attempts(retries.attempts)} until the ${seconds(call.timeoutMs)} s request timeout`);
  }
  if (guard.timedOut || error instanceof APIConnectionTimeoutError) {
    const earlier = retries.statusError ? ` (earlier attempts were answered with HTTP ${retries.statusError.status})` : '';
    return lasting(`The model server at ${where} did not start answering within ${seconds(call.timeoutMs)} s${earlier}; check that it is running and not overloaded, or raise the request timeout.`);
  }
  if (error instanceof AgentError) return error;
  if (error instanceof APIUserAbortError) return new AgentError(ErrorReason.Cancelled, 'model call cancelled');
  if (error instanceof APIConnectionError) {
    return lasting(`Cannot reach the model server at ${where} (${rootCause(error)}, ${attempts(retries.attempts)}); ${CHECK_SERVER}`);
  }
  if (error instanceof APIError && error.status) return statusFailure(error, call, `after ${attempts(retries.attempts)}`);
  const text = error instanceof Error ? error.message : String(error);
  return fail(`Unexpected answer from the model server at ${where}: ${sentence(text)}`);
}

// An answer with an HTTP error status; `tries` says how many attempts got it, e.g. "after 5 attempts".
function statusFailure(error: APIError, call: FailedCall, tries: string): AgentError {
  const { where } = call;
  const status = error.status!;
  const said = sentence(serverMessage(error));
  const wait = askedWait(error, call);
  if (status === 429) {
    return new AgentError(ErrorReason.ModelUnavailable, `The model server at ${where} is rate limiting requests: HTTP 429 ${tries}: ${said}${wait} `
      + `Wait and run again, or send fewer requests at once (${settingNames('concurrency')}).`);
  }
  if (status === 503) {
    return new AgentError(ErrorReason.ModelUnavailable, `The model server at ${where} is unavailable: HTTP 503 ${tries}: ${said}${wait} `
      + 'Check that it is running and has finished loading the model.');
  }
  if (status >= 500) return new AgentError(ErrorReason.ModelUnavailable, `The model server at ${where} returned HTTP ${status} ${tries}: ${said}${wait}`);
  const overflow = parseContextOverflow(status, serverMessage(error));
  if (overflow) {
    return new ContextOverflowError(`The model server at ${where} refused a request longer than its context window: ${said}`, overflow.contextTokens, overflow.promptTokens);
  }
  const hint = status === 401 || status === 403 ? ' Check the API key.'
    : status === 404 ? ` Check the model name "${call.model}" and the base URL.` : '';
  const message = `The model server at ${where} rejected the request with HTTP ${status}: ${said}${hint}`;
  return hint ? new LastingFailure(ErrorReason.ModelRejected, message) : new AgentError(ErrorReason.ModelRejected, message);
}

// The wait the server asked for (Retry-After), when it is worth saying: a second or more, or more than the deadline allowed.
function askedWait(error: APIError, call: FailedCall): string {
  const ms = serverWaitMs(error);
  if (ms === undefined || (ms < 1000 && call.retries.refusedWaitMs === undefined)) return '';
  const refused = call.retries.refusedWaitMs !== undefined ? `, more than is left of the ${seconds(call.timeoutMs)} s request timeout` : '';
  return ` It asked to wait ${seconds(Math.round(ms))} s before trying again${refused}.`;
}

function serverMessage(error: APIError): string {
  const inner = (error.error as { message?: unknown } | undefined)?.message;
  return typeof inner === 'string' ? inner : error.message;
}

function attempts(n: number): string {
  return `${n} attempt${n === 1 ? '' : 's'}`;
}

/** `text` as a sentence: a full stop added unless it already ends as one. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]["')\]]*$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** Milliseconds as seconds for a message: whole when they are, else to a tenth. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1);
}
