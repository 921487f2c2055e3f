/** A minimal typed event source: the core emits, the CLI and the extension render. */
export class Emitter<T> {
  private readonly listeners = new Set<(event: T) => void>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (event: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Delivers an event to every listener; a throwing listener does not stop the others or the engine. */
  emit(event: T): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A renderer's bug must not end a rollout.
      }
    }
  }
}
