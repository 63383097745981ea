/**
 * The media node: its worker pool, its rooms, drain state, and the events it reports. Every
 * control request lands in `handle`, already validated against protocol's `ControlRequest`, and
 * goes to the handler of its type.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  Emitter,
  MediaErrorCode,
  type ControlRequestOf,
  type ControlResponses,
  type ControlRequestType,
  type MediaNodeEvent,
  type NodeStatus,
  type RecordingStopped,
  type RtpCapabilities,
} from '@callstack/protocol';
import type { MediaConfig } from './config.ts';
import { ControlError, notFound } from './errors.ts';
import { EventSink } from './EventSink.ts';
import { LocalDiskStore } from './LocalDiskStore.ts';
import { PortPairs } from './PortPairs.ts';
import { Recorder } from './Recorder.ts';
import type { RecordingStore } from './RecordingStore.ts';
import { S3Store } from './S3Store.ts';
import { CONTAINERS } from './TrackRecorder.ts';
import type { EventInput, MediaNodeEvents } from './MediaNodeTypes.ts';
import { Room } from './Room.ts';
import { WorkerPool } from './WorkerPool.ts';

const ok = { ok: true } as const;

type ControlHandlers = { [T in ControlRequestType]: (request: ControlRequestOf<T>) => Promise<ControlResponses[T]> };

export class MediaNode extends Emitter<MediaNodeEvents> {
  readonly pool: WorkerPool;
  readonly #config: MediaConfig;
  readonly #logger: Logger;
  readonly #sink: EventSink | undefined;
  readonly #rooms = new Map<string, Room>();
  /** Rooms being created, so two concurrent creates of one id share one router. */
  readonly #creating = new Map<string, Promise<Room>>();
  /** Recordings by id, running or stopped (a stopped one answers `recording.stop` again with its tracks). */
  readonly #recordings = new Map<string, Recorder>();
  readonly #store: RecordingStore;
  readonly #ports: PortPairs;
  #recordedBytes = 0;
  #draining = false;

  static async start(config: MediaConfig, logger: Logger): Promise<MediaNode> {
    const node = new MediaNode(config, logger);
    await node.pool.start();
    return node;
  }

  private constructor(config: MediaConfig, logger: Logger) {
    super();
    this.#config = config;
    this.#logger = logger;
    this.pool = new WorkerPool({ count: config.workers, rtcMinPort: config.rtc.minPort, rtcMaxPort: config.rtc.maxPort, logger });
    this.pool.on('died', ({ pid, replaced }) => this.#onWorkerDied(pid, replaced));
    this.#store = config.recordings.s3 ? new S3Store(config.recordings.s3) : new LocalDiskStore();
    // ffmpeg runs next to the node: it listens on the address the node's transports use.
    this.#ports = new PortPairs(config.rtc.listenIp === '0.0.0.0' ? '127.0.0.1' : config.rtc.listenIp);
    this.#sink = config.edgeUrl ? new EventSink({ edgeUrl: config.edgeUrl, secret: config.controlSecret, logger }) : undefined;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  get recordings(): ReadonlyMap<string, Recorder> {
    return this.#recordings;
  }

  /** Recordings running now. */
  get activeRecordings(): number {
    return [...this.#recordings.values()].filter((recorder) => recorder.active).length;
  }

  /** Bytes of every track file finished since the node started. */
  get recordedBytes(): number {
    return this.#recordedBytes;
  }

  /** A finished local track file, to stream to the edge. */
  async recordingFile(recordingId: string, fileName: string): Promise<{ path: string; size: number; contentType: string }> {
    const path = join(this.#config.recordings.dir, recordingId, fileName);
    const found = await stat(path).catch(() => null);
    const running = this.#recordings.get(recordingId)?.active ?? false;
    if (!found?.isFile() || running) throw notFound('recording file', `${recordingId}/${fileName}`);
    const codec = Object.values(CONTAINERS).find((container) => fileName.endsWith(`.${container.extension}`));
    return { path, size: found.size, contentType: codec?.contentType ?? 'application/octet-stream' };
  }

  /** Answers a validated control request with the handler of its type. */
  async handle<T extends ControlRequestType>(request: ControlRequestOf<T>): Promise<ControlResponses[T]> {
    // The request's type is T, so the map's entry for it takes this request and answers T's response.
    const handler: ControlHandlers[T] = this.#handlers[request.type as T];
    return handler(request);
  }

  /** One handler per request type: answering with another type's response does not compile. */
  readonly #handlers: ControlHandlers = {
    'room.create': async ({ roomId }) => {
      const room = await this.#createRoom(roomId);
      return { roomId: room.id, rtpCapabilities: room.primary.rtpCapabilities as RtpCapabilities };
    },
    'room.close': async ({ roomId }) => {
      this.#room(roomId).close();
      return ok;
    },
    'peer.join': async ({ roomId, peerId }) => {
      const room = this.#room(roomId);
      room.join(peerId);
      return { roomId: room.id, peerId, rtpCapabilities: room.primary.rtpCapabilities as RtpCapabilities };
    },
    'peer.leave': async ({ roomId, peerId }) => {
      this.#room(roomId).leave(peerId);
      return ok;
    },
    'transport.create': async (request) => this.#peer(request).createTransport(request.direction, request.transport),
    'transport.connect': async (request) => {
      await this.#peer(request).connect(request.transportId, request.connect);
      return ok;
    },
    'producer.create': async (request) => ({
      producerId: await this.#peer(request).produce(request.transportId, request.kind, request.source, request.rtpParameters, request.paused),
    }),
    'producer.pause': async (request) => this.#pause(request, true),
    'producer.resume': async (request) => this.#pause(request, false),
    'producer.close': async (request) => {
      this.#peer(request).closeProducer(request.producerId);
      return ok;
    },
    'consumer.create': async (request) => this.#peer(request).consume(request.transportId, request.producerId, request.rtpCapabilities),
    'consumer.pause': async (request) => this.#pause(request, true),
    'consumer.resume': async (request) => this.#pause(request, false),
    'consumer.layers': async (request) => {
      await this.#peer(request).setConsumerLayers(request.consumerId, request.spatialLayer, request.temporalLayer);
      return ok;
    },
    'recording.start': async (request) => {
      const room = this.#room(request.roomId);
      if (this.#recordings.has(request.recordingId)) throw new ControlError(MediaErrorCode.conflict, `recording ${request.recordingId} exists`);
      const running = [...this.#recordings.values()].find((recorder) => recorder.active && recorder.roomId === room.id);
      if (running) throw new ControlError(MediaErrorCode.conflict, `room ${room.id} is already being recorded (${running.id})`);
      const recorder = await Recorder.start({
        room,
        recordingId: request.recordingId,
        dir: this.#config.recordings.dir,
        store: this.#store,
        ports: this.#ports,
        logger: this.#logger,
      });
      this.#recordings.set(recorder.id, recorder);
      recorder.on('trackFinished', (track) => (this.#recordedBytes += track.sizeBytes));
      return { recordingId: recorder.id, startedAt: recorder.startedAt, tracks: recorder.liveTracks };
    },
    'recording.stop': async (request) => {
      const recorder = this.#recordings.get(request.recordingId);
      if (!recorder || recorder.roomId !== request.roomId) throw notFound('recording', request.recordingId);
      return recorder.stop();
    },
    'node.drain': async () => {
      if (!this.#draining) {
        this.#logger.info({ rooms: this.#rooms.size }, 'draining: no new rooms');
        this.#draining = true;
        this.emit('draining');
      }
      return this.status();
    },
    'node.status': async () => this.status(),
  };

  status(): NodeStatus {
    const workerLoad = this.pool.loads();
    const sum = (key: 'transports' | 'producers' | 'consumers') => workerLoad.reduce((total, load) => total + load[key], 0);
    const rooms = this.#rooms.size;
    const peers = [...this.#rooms.values()].reduce((total, room) => total + room.peers.size, 0);
    return {
      draining: this.#draining,
      drained: this.#draining && rooms === 0 && peers === 0,
      rooms,
      peers,
      transports: sum('transports'),
      producers: sum('producers'),
      consumers: sum('consumers'),
      workers: workerLoad.length,
      consumerBudgetPerWorker: this.#config.consumersPerWorker,
      workerLoad,
    };
  }

  /** Finishes recordings, closes every room and worker, then waits (bounded) for queued events to reach the edge. */
  async close(): Promise<void> {
    await Promise.all([...this.#recordings.values()].map((recorder): Promise<RecordingStopped> => recorder.stop('room-closed')));
    for (const room of this.#rooms.values()) room.close();
    this.pool.close();
    await this.#sink?.flush();
  }

  async #createRoom(roomId: string): Promise<Room> {
    const existing = this.#rooms.get(roomId) ?? this.#creating.get(roomId);
    if (existing) return existing;
    if (this.#draining) throw new ControlError(MediaErrorCode.draining, 'node is draining: create the room on another node');
    const creating = Room.create({
      roomId,
      pool: this.pool,
      rtc: { listenIp: this.#config.rtc.listenIp, announcedIp: this.#config.rtc.announcedIp, plainTransports: this.#config.plainTransports },
      consumersPerWorker: this.#config.consumersPerWorker,
      logger: this.#logger,
    });
    this.#creating.set(roomId, creating);
    try {
      const room = await creating;
      this.#rooms.set(roomId, room);
      room.on('speakerChanged', (peerId, producerId) => this.#report({ type: 'speaker.changed', roomId, peerId, producerId }));
      room.on('producerClosed', (peerId, producerId, reason) => this.#report({ type: 'producer.closed', roomId, peerId, producerId, reason }));
      room.on('empty', () => this.#report({ type: 'room.empty', roomId }));
      room.on('closed', () => {
        this.#rooms.delete(roomId);
        if (this.#draining && this.#rooms.size === 0) this.#logger.info('drained: no rooms left');
      });
      return room;
    } finally {
      this.#creating.delete(roomId);
    }
  }

  #room(roomId: string): Room {
    const room = this.#rooms.get(roomId);
    if (!room) throw notFound('room', roomId);
    return room;
  }

  #peer(request: { roomId: string; peerId: string }) {
    return this.#room(request.roomId).peer(request.peerId);
  }

  /** Pauses or resumes the producer or consumer a request names. */
  async #pause(request: { roomId: string; peerId: string } & ({ producerId: string } | { consumerId: string }), paused: boolean): Promise<typeof ok> {
    const peer = this.#peer(request);
    if ('producerId' in request) await peer.pauseProducer(request.producerId, paused);
    else await peer.pauseConsumer(request.consumerId, paused);
    return ok;
  }

  /** A dead worker took its routers with it: close the rooms that used it, the edge moves them. */
  #onWorkerDied(pid: number, replaced: boolean): void {
    const roomIds = [...this.#rooms.values()].filter((room) => room.workerPids.includes(pid)).map((room) => room.id);
    for (const roomId of roomIds) this.#rooms.get(roomId)?.close();
    this.#report({ type: 'worker.died', workerPid: pid, roomIds, replaced });
  }

  #report(input: EventInput): void {
    const event = { ...input, nodeId: this.#config.nodeId, at: Date.now() } as MediaNodeEvent;
    this.#logger.info({ event }, 'event');
    this.emit('event', event);
    this.#sink?.send(event);
  }
}
