/**
 * "Write this to Postgres durably, from a Durable Object": records the object must not lose (call
 * records, room stays, later SIP CDRs and billing pushes) are first kept in the object's storage,
 * then written; a failed write keeps them and is retried from the object's alarm with backoff and
 * jitter (`retryDelay`) until it succeeds. `write` must be idempotent (each record has a key and
 * the SQL skips a key already there), because a write that succeeded may still be retried when
 * the object is evicted before it learned so.
 */
import { retryDelay } from '../retry.ts';

interface Pending<T> {
  items: T[];
  attempts: number;
  /** When the next retry is due; null while no write failed. */
  nextAttemptAt: number | null;
}

export interface DurableWriterOptions<T> {
  /** Storage key of the pending records (one writer per key). */
  key: string;
  /** A record's identity: records added while a write was under way are kept for the next one. */
  idOf: (item: T) => string;
  /** Writes the records (idempotently). Throwing keeps them for a retry. */
  write: (items: T[]) => Promise<void>;
  /** Told about each failure (log it with the object's ids). */
  onFailure: (error: unknown, progress: { pending: number; attempts: number; nextAttemptAt: number }) => void;
}

export type FlushResult = 'idle' | 'written' | 'failed';

export class DurableWriter<T> {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly options: DurableWriterOptions<T>,
  ) {}

  /** Keeps `item` and writes everything pending. */
  async add(item: T, now = Date.now()): Promise<FlushResult> {
    await this.keep(item);
    return this.flush(now);
  }

  /**
   * Keeps `item` without writing it yet: an object keeps a record together with the state change
   * it belongs to, before the effects that may outlive it, and flushes after them.
   */
  async keep(item: T): Promise<void> {
    const pending = await this.load();
    await this.storage.put<Pending<T>>(this.options.key, { ...pending, items: [...pending.items, item] });
  }

  /** Writes everything pending (from the alarm, or right after `add`). */
  async flush(now = Date.now()): Promise<FlushResult> {
    const pending = await this.load();
    if (pending.items.length === 0) return 'idle';
    try {
      await this.options.write(pending.items);
    } catch (error) {
      const current = await this.load();
      const attempts = current.attempts + 1;
      const nextAttemptAt = now + retryDelay(attempts);
      await this.storage.put<Pending<T>>(this.options.key, { ...current, attempts, nextAttemptAt });
      this.options.onFailure(error, { pending: current.items.length, attempts, nextAttemptAt });
      return 'failed';
    }
    const written = new Set(pending.items.map(this.options.idOf));
    const rest = (await this.load()).items.filter((item) => !written.has(this.options.idOf(item)));
    if (rest.length === 0) await this.storage.delete(this.options.key);
    else await this.storage.put<Pending<T>>(this.options.key, { items: rest, attempts: 0, nextAttemptAt: null });
    return 'written';
  }

  /** When the alarm must retry (null when nothing waits for a retry). */
  async dueAt(): Promise<number | null> {
    return (await this.load()).nextAttemptAt;
  }

  /** Whether records still wait to be written. */
  async hasPending(): Promise<boolean> {
    return (await this.load()).items.length > 0;
  }

  private async load(): Promise<Pending<T>> {
    return (await this.storage.get<Pending<T>>(this.options.key)) ?? { items: [], attempts: 0, nextAttemptAt: null };
  }
}
