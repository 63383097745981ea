/**
 * One conference on this node: a router on the worker the room started on (the primary, which
 * holds every send transport, so one AudioLevelObserver hears every microphone), plus routers on
 * other workers once the primary worker's consumers reach the budget. Recv transports then go to
 * the least-loaded worker, and producers reach them through `pipeToRouter`, so a room can use
 * more than one core.
 */
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { Emitter, MediaErrorCode } from '@callstack/protocol';
import { MEDIA_CODECS } from './codecs.ts';
import { ControlError, notFound } from './errors.ts';
import { Peer } from './Peer.ts';
import type { ProducerAppData, ProducerCloseReason, RoomEvents, RoomOptions } from './RoomTypes.ts';

export class Room extends Emitter<RoomEvents> {
  readonly id: string;
  readonly options: RoomOptions;
  readonly logger: Logger;
  readonly primary: types.Router;
  readonly #routers = new Map<types.Worker, types.Router>();
  readonly #peers = new Map<string, Peer>();
  /** `${producerId}/${routerId}` -> the pipe in progress or done, so each producer is piped once per router. */
  readonly #pipes = new Map<string, Promise<void>>();
  readonly #audioLevels: types.AudioLevelObserver;
  #speaker: string | null = null;
  #closed = false;

  static async create(options: RoomOptions): Promise<Room> {
    const worker = options.pool.leastLoaded();
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    // One entry (the loudest) every 800 ms; -70 dBov keeps background noise from winning.
    const audioLevels = await router.createAudioLevelObserver({ maxEntries: 1, threshold: -70, interval: 800 });
    return new Room(options, worker, router, audioLevels);
  }

  private constructor(options: RoomOptions, worker: types.Worker, router: types.Router, audioLevels: types.AudioLevelObserver) {
    super();
    this.id = options.roomId;
    this.options = options;
    this.logger = options.logger.child({ roomId: this.id });
    this.primary = router;
    this.#routers.set(worker, router);
    this.#audioLevels = audioLevels;
    audioLevels.on('volumes', (volumes) => {
      const loudest = volumes[0]?.producer;
      if (loudest) this.#setSpeaker(String(loudest.appData.peerId), loudest.id);
    });
    audioLevels.on('silence', () => this.#setSpeaker(null, null));
    this.logger.info({ workerPid: worker.pid }, 'room created');
  }

  get closed(): boolean {
    return this.#closed;
  }

  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  /** Pids of the workers this room has a router on. */
  get workerPids(): number[] {
    return [...this.#routers.keys()].map((worker) => worker.pid);
  }

  join(peerId: string): Peer {
    if (this.#peers.has(peerId)) throw new ControlError(MediaErrorCode.conflict, `peer ${peerId} already joined room ${this.id}`);
    const peer = new Peer(this, peerId);
    this.#peers.set(peerId, peer);
    this.logger.info({ peerId }, 'peer joined');
    return peer;
  }

  peer(peerId: string): Peer {
    const peer = this.#peers.get(peerId);
    if (!peer) throw notFound('peer', peerId);
    return peer;
  }

  leave(peerId: string): void {
    this.peer(peerId).close();
    this.#peers.delete(peerId);
    this.logger.info({ peerId }, 'peer left');
    if (this.#peers.size === 0) this.emit('empty');
  }

  /** Called by Peer for every new producer. */
  producerAdded(producer: types.Producer<ProducerAppData>): void {
    if (!this.#closed) this.emit('producerAdded', producer);
  }

  /** Every producer of every peer. */
  producers(): types.Producer<ProducerAppData>[] {
    return [...this.#peers.values()].flatMap((peer) => [...peer.producers.values()]);
  }

  /** Called by Peer for every producer it closes, so the edge can tell the consumers' browsers. */
  producerClosed(peerId: string, producerId: string, reason: ProducerCloseReason): void {
    if (this.#closed) return;
    if (this.#speaker === peerId) this.#setSpeaker(null, null);
    this.emit('producerClosed', peerId, producerId, reason);
  }

  /** Microphones feed the active-speaker observer (all send transports are on the primary router). */
  async observeAudio(producer: types.Producer): Promise<void> {
    await this.#audioLevels.addProducer({ producerId: producer.id });
  }

  /** A producer of any peer of the room. */
  producer(producerId: string): types.Producer<ProducerAppData> {
    for (const peer of this.#peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return producer;
    }
    throw notFound('producer', producerId);
  }

  /**
   * Where a new recv transport goes: the primary router while its worker is under the consumer
   * budget, else a router of this room on the least-loaded other worker (created on first use).
   */
  async routerForRecv(): Promise<types.Router> {
    const { pool, consumersPerWorker } = this.options;
    const primaryWorker = this.#workerOf(this.primary);
    if (pool.loadOf(primaryWorker).consumers < consumersPerWorker) return this.primary;
    const worker = pool.leastLoaded(primaryWorker);
    let router = this.#routers.get(worker);
    if (!router) {
      router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
      this.#routers.set(worker, router);
      this.logger.info({ workerPid: worker.pid }, 'room spread to another worker');
    }
    return router;
  }

  /** Makes `producerId` available on `router` (a no-op on the producer's own router). */
  async ensureProducerOn(producer: types.Producer, router: types.Router): Promise<void> {
    if (router === this.primary) return;
    const key = `${producer.id}/${router.id}`;
    let pipe = this.#pipes.get(key);
    if (!pipe) {
      pipe = this.primary.pipeToRouter({ producerId: producer.id, router }).then(({ pipeProducer }) => {
        pipeProducer?.observer.once('close', () => this.#pipes.delete(key));
      });
      pipe.catch(() => this.#pipes.delete(key));
      this.#pipes.set(key, pipe);
    }
    await pipe;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    for (const router of this.#routers.values()) router.close();
    this.logger.info('room closed');
    this.emit('closed');
  }

  #workerOf(router: types.Router): types.Worker {
    for (const [worker, candidate] of this.#routers) if (candidate === router) return worker;
    throw new Error(`router ${router.id} is not in room ${this.id}`);
  }

  #setSpeaker(peerId: string | null, producerId: string | null): void {
    if (peerId === this.#speaker) return;
    this.#speaker = peerId;
    this.emit('speakerChanged', peerId, producerId);
  }
}
