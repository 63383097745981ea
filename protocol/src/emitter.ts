/**
 * The typed event emitter of web and media-fleet, defined once (protocol is what both depend on;
 * this is its one utility that is not a wire shape). `Events` maps each event name to its
 * listeners' arguments, e.g. `{ change: []; closed: [reason: string] }`.
 *
 * Listeners run synchronously in the order they were added, each at most once per emit however
 * often it was added. One added during an emit first runs on the next emit; one removed during an
 * emit does not run in it (the DOM's EventTarget order). A listener that throws stops the emit and
 * the error reaches the emitter, as with node's EventEmitter. Unlike node's, `error` is an event
 * like any other: emitting it with no listener does nothing.
 */
type Listener<Args extends unknown[]> = (...args: Args) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; the function returned removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let listeners = this.#listeners.get(event);
    if (!listeners) this.#listeners.set(event, (listeners = new Set()));
    listeners.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const listeners = this.#listeners.get(event) as Set<Listener<Events[K]>> | undefined;
    if (!listeners) return;
    for (const listener of [...listeners]) {
      if (listeners.has(listener)) listener(...args);
    }
  }
}
