/**
 * Delivers node events to the edge: one signed `POST {EDGE_URL}/api/fleet/events` per event
 * (body: the event JSON; header as for control requests, see protocol/controlSignature.ts), in
 * order, retried on network errors and 5xx. Best effort: after the retries, or when more than
 * `maxQueued` are waiting, an event is dropped and logged; the edge also polls status.
 */
import type { Logger } from 'pino';
import { CONTROL_SIGNATURE_HEADER, MEDIA_EVENTS_PATH, signControlRequest, type MediaNodeEvent } from '@callstack/protocol';

export interface EventSinkOptions {
  edgeUrl: string;
  secret: string;
  logger: Logger;
  attempts?: number;
  maxQueued?: number;
}

export class EventSink {
  readonly #url: URL;
  readonly #options: Required<EventSinkOptions>;
  #tail: Promise<void> = Promise.resolve();
  #queued = 0;

  constructor(options: EventSinkOptions) {
    this.#options = { attempts: 3, maxQueued: 1000, ...options };
    this.#url = new URL(MEDIA_EVENTS_PATH, options.edgeUrl);
  }

  send(event: MediaNodeEvent): void {
    if (this.#queued >= this.#options.maxQueued) {
      this.#options.logger.warn({ event }, 'event dropped: delivery queue full');
      return;
    }
    this.#queued++;
    this.#tail = this.#tail.then(() => this.#deliver(event)).finally(() => this.#queued--);
  }

  /** Resolves once everything queued so far was delivered or given up on. */
  flush(): Promise<void> {
    return this.#tail;
  }

  async #deliver(event: MediaNodeEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= this.#options.attempts; attempt++) {
      let problem: string;
      try {
        const signature = await signControlRequest(this.#options.secret, { method: 'POST', path: this.#url.pathname, body });
        const response = await fetch(this.#url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signature },
          body,
          signal: AbortSignal.timeout(5000),
        });
        await response.body?.cancel();
        if (response.ok) return;
        problem = `HTTP ${response.status}`;
        // The edge refused this event (4xx): sending it again cannot help.
        if (response.status < 500) break;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      this.#options.logger.warn({ eventType: event.type, attempt, problem }, 'event delivery failed');
      if (attempt < this.#options.attempts) await new Promise((resolve) => setTimeout(resolve, 250 * 4 ** (attempt - 1)));
    }
    this.#options.logger.error({ event }, 'event dropped after retries');
  }
}
