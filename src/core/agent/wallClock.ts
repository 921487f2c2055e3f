/** The run's own clock: its AbortSignal fires on the caller's cancel or when the wall-time limit passes. */
import { AgentError, ErrorReason } from '../errors.js';

/** The run's own AbortSignal and whether its wall-time limit passed. */
export interface WallClock {
  signal: AbortSignal;
  expired(): boolean;
  dispose(): void;
}

/** Starts the clock of one run. */
export function wallClock(outer: AbortSignal | undefined, limitMs: number): WallClock {
  const controller = new AbortController();
  const deadline = Date.now() + limitMs;
  const timer = setTimeout(() => controller.abort(new AgentError(ErrorReason.Cancelled, 'wall time limit')), limitMs);
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    expired: () => Date.now() >= deadline && !outer?.aborted,
    dispose: () => { clearTimeout(timer); outer?.removeEventListener('abort', onAbort); },
  };
}
