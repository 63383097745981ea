/**
 * The node's mediasoup workers (one process per core) and their load. Load is counted from
 * mediasoup's observer events, so pipe transports and pipe consumers count too: they cost the
 * worker as much as a browser's.
 */
import { createWorker, type types } from 'mediasoup';
import { Emitter } from '@callstack/protocol';
import type { WorkerLoad, WorkerPoolEvents, WorkerPoolOptions } from './WorkerPoolTypes.ts';

interface Slot {
  worker: types.Worker;
  load: WorkerLoad;
  deaths: number[];
}

export class WorkerPool extends Emitter<WorkerPoolEvents> {
  readonly #options: Required<WorkerPoolOptions>;
  readonly #slots: Slot[] = [];
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    super();
    this.#options = { maxRestarts: 5, restartWindowMs: 60_000, ...options };
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.#options.count; i++) this.#slots.push(await this.#spawn([]));
  }

  get workers(): types.Worker[] {
    return this.#slots.map((slot) => slot.worker);
  }

  loadOf(worker: types.Worker): WorkerLoad {
    const slot = this.#slots.find((s) => s.worker === worker);
    if (!slot) throw new Error(`worker ${worker.pid} is not in the pool`);
    return { ...slot.load };
  }

  loads(): WorkerLoad[] {
    return this.#slots.map((slot) => ({ ...slot.load }));
  }

  /** Fewest consumers first (what the budget is about), then fewest routers. */
  leastLoaded(exclude?: types.Worker): types.Worker {
    const live = this.#slots.filter((slot) => !slot.worker.closed);
    if (live.length === 0) throw new Error('no live mediasoup worker');
    const others = live.filter((slot) => slot.worker !== exclude);
    const pick = (others.length ? others : live).reduce((best, slot) =>
      slot.load.consumers < best.load.consumers || (slot.load.consumers === best.load.consumers && slot.load.routers < best.load.routers) ? slot : best,
    );
    return pick.worker;
  }

  /** CPU seconds (user + system) each worker has used, by pid. */
  async cpuSeconds(): Promise<Map<number, number>> {
    const entries = await Promise.all(
      this.#slots
        .filter((slot) => !slot.worker.closed)
        .map(async (slot) => {
          const usage = await slot.worker.getResourceUsage();
          return [slot.worker.pid, (usage.ru_utime + usage.ru_stime) / 1000] as const;
        }),
    );
    return new Map(entries);
  }

  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) slot.worker.close();
  }

  async #spawn(deaths: number[]): Promise<Slot> {
    const worker = await createWorker({ logLevel: 'warn', rtcMinPort: this.#options.rtcMinPort, rtcMaxPort: this.#options.rtcMaxPort });
    const slot: Slot = { worker, load: { pid: worker.pid, routers: 0, transports: 0, producers: 0, consumers: 0 }, deaths };
    this.#count(slot);
    worker.on('died', (error) => this.#onDied(slot, error));
    this.#options.logger.info({ workerPid: worker.pid }, 'mediasoup worker started');
    return slot;
  }

  #count(slot: Slot): void {
    const { load } = slot;
    const track = (key: 'routers' | 'transports' | 'producers' | 'consumers', observer: { once(event: 'close', listener: () => void): unknown }) => {
      load[key]++;
      observer.once('close', () => load[key]--);
    };
    slot.worker.observer.on('newrouter', (router: types.Router) => {
      track('routers', router.observer);
      router.observer.on('newtransport', (transport) => {
        track('transports', transport.observer);
        transport.observer.on('newproducer', (producer) => track('producers', producer.observer));
        transport.observer.on('newconsumer', (consumer) => track('consumers', consumer.observer));
      });
    });
  }

  #onDied(slot: Slot, error: Error): void {
    const pid = slot.worker.pid;
    const now = Date.now();
    const deaths = [...slot.deaths.filter((at) => now - at < this.#options.restartWindowMs), now];
    const replaced = !this.#closed && deaths.length <= this.#options.maxRestarts;
    this.#options.logger.error({ workerPid: pid, err: error, replaced }, 'mediasoup worker died');
    this.emit('died', { pid, replaced, error });
    const index = this.#slots.indexOf(slot);
    if (!replaced) {
      // It keeps dying: leave the node with fewer workers rather than a restart loop.
      this.#slots.splice(index, 1);
      return;
    }
    this.#spawn(deaths).then(
      (fresh) => {
        // The pool may have closed while the replacement started.
        if (this.#closed) fresh.worker.close();
        this.#slots[this.#slots.indexOf(slot)] = fresh;
      },
      (spawnError: unknown) => {
        this.#options.logger.error({ err: spawnError }, 'could not replace a dead mediasoup worker');
        this.#slots.splice(this.#slots.indexOf(slot), 1);
      },
    );
  }
}
