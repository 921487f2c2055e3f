/** The one error type of the engine, with a reason a caller can switch on. */

/** Why something failed; stable strings, shown to users and written to trajectories. */
export enum ErrorReason {
  PathOutsideWorkspace = 'path_outside_workspace',
  FileNotFound = 'file_not_found',
  InvalidArgument = 'invalid_argument',
  ModelUnavailable = 'model_unavailable',
  ModelRejected = 'model_rejected',
  /** The server started an answer and broke it off: a stream cut short, a connection reset mid-answer. */
  ModelTruncated = 'model_truncated',
  /** The server sent far more than a model reply can be: a broken server or a proxy's runaway body. */
  ModelReplyTooLarge = 'model_reply_too_large',
  /** The request does not fit the server's context window (see ContextOverflowError). */
  ContextOverflow = 'context_overflow',
  Cancelled = 'cancelled',
  NotAGitRepository = 'not_a_git_repository',
  GitFailed = 'git_failed',
  PatchDoesNotApply = 'patch_does_not_apply',
  MissingCommit = 'missing_commit',
  Config = 'config',
  Io = 'io',
}

/** An error whose message is written for the person or model that must act on it. */
export class AgentError extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AgentError';
  }
}

/** True when `error` is the result of an AbortSignal firing. */
export function isAbort(error: unknown): boolean {
  if (error instanceof AgentError) return error.reason === ErrorReason.Cancelled;
  if (!(error instanceof Error)) return false;
  return error.name === 'AbortError' || error.name === 'APIUserAbortError' || /aborted/i.test(error.message);
}

/** Throws an AgentError(Cancelled) when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AgentError(ErrorReason.Cancelled, 'cancelled');
}

/** Typed end of an agent loop; thrown by a step and caught by the loop, never by anything else. */
export abstract class Outcome extends Error {
  abstract readonly exitReason: 'submitted' | 'limits_exceeded' | 'cancelled' | 'model_error' | 'format_error';
}

/** The model called `finish`. */
export class Submitted extends Outcome {
  readonly exitReason = 'submitted' as const;
  constructor(readonly result: string) { super('submitted'); }
}

/** A step, token, time or cost limit was reached. */
export class LimitsExceeded extends Outcome {
  readonly exitReason = 'limits_exceeded' as const;
}

/** The run was cancelled through its AbortSignal. */
export class Cancelled extends Outcome {
  readonly exitReason = 'cancelled' as const;
  constructor() { super('cancelled'); }
}

/** The model could not be reached or refused the request, after retries. */
export class ModelFailed extends Outcome {
  readonly exitReason = 'model_error' as const;
}

/** The model produced unusable output too many times in a row. */
export class FormatError extends Outcome {
  readonly exitReason = 'format_error' as const;
}
