/** Minimal typed event emitter; `on` returns the matching unsubscribe function. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners: { [K in keyof Events]?: Set<(value: Events[K]) => void> } = {};

  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    const set = (this.listeners[event] ??= new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of this.listeners[event] ?? []) listener(value);
  }
}
