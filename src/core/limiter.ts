/** A counting semaphore: at most `slots` tasks run at once, shared by every caller that holds the same limiter. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** `slots` is clamped to at least one. */
  constructor(readonly slots: number) {
    this.slots = Math.max(1, Math.floor(slots));
  }

  /** Runs `task` once a slot is free and frees the slot when it settles; never call it from inside a task. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so a late caller cannot overtake the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
