/**
 * The AbortSignal of one model call: fires when the caller's signal fires, or when the server has not started
 * answering within the deadline. The SDK adds an 'abort' listener to the signal of every attempt and never
 * removes it, so it must get this short-lived signal, never a rollout's long-lived one: on the rollout's
 * signal those listeners would pile up, one per model call (MaxListenersExceededWarning after ten).
 */
export class CallGuard {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** True once the deadline passed before `started()`. */
  timedOut = false;
  /** When the call began (ms since the epoch). */
  readonly began = Date.now();
  readonly signal = this.controller.signal;

  constructor(private readonly outer: AbortSignal | undefined, deadlineMs: number) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, deadlineMs);
  }

  /** The server started answering: the deadline no longer applies. */
  started(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Removes the listener from the caller's signal; call it when the call is over, however it ended. */
  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }

  private readonly onAbort = () => this.controller.abort(this.outer?.reason);
}
