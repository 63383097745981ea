/**
 * One recording of a room: every producer of the room, those there at the start and those that
 * come while it runs (screen shares too), each into its own file through a TrackRecorder. A
 * producer that closes ends its file; `stop` (or the room closing) ends the rest. Finished files
 * are measured and handed to the store; `stop` answers with every track.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { Emitter, type RecordedTrack, type RecordingStopped } from '@callstack/protocol';
import { invalidState } from './errors.ts';
import type { RecorderEvents, RecorderOptions } from './RecorderTypes.ts';
import type { ProducerAppData } from './RoomTypes.ts';
import { TrackRecorder } from './TrackRecorder.ts';

export class Recorder extends Emitter<RecorderEvents> {
  readonly id: string;
  readonly roomId: string;
  readonly startedAt = Date.now();
  readonly logger: Logger;
  readonly #options: RecorderOptions;
  readonly #dir: string;
  /** Tracks being recorded (or starting), by producer id. */
  readonly #live = new Map<string, Promise<TrackRecorder | null>>();
  /** Producers whose track is recording (ffmpeg listening, consumer resumed). */
  readonly #recording = new Set<string>();
  /** Tracks finished and stored (or being so), in the order they ended. */
  readonly #done: Promise<RecordedTrack | null>[] = [];
  #stopped: Promise<RecordingStopped> | undefined;

  /** Fails at once, creating nothing, when the room has no producer. */
  static async start(options: RecorderOptions): Promise<Recorder> {
    if (options.room.producers().length === 0) throw invalidState('nothing is published in this room: start recording once someone sends audio or video');
    const recorder = new Recorder(options);
    await mkdir(recorder.#dir, { recursive: true });
    // Listed and subscribed with no await between: a producer added while the first tracks
    // start (a browser publishing mic and camera at once) is recorded too, not missed.
    const producers = options.room.producers();
    options.room.on('producerAdded', recorder.#onProducer);
    options.room.on('closed', recorder.#onRoomClosed);
    await Promise.all(producers.map((producer) => recorder.#record(producer)));
    recorder.logger.info({ tracks: producers.length, dir: recorder.#dir }, 'recording started');
    return recorder;
  }

  private constructor(options: RecorderOptions) {
    super();
    this.#options = options;
    this.id = options.recordingId;
    this.roomId = options.room.id;
    this.#dir = join(options.dir, options.recordingId);
    this.logger = options.room.logger.child({ recordingId: this.id });
  }

  get active(): boolean {
    return this.#stopped === undefined;
  }

  /** Producers being recorded right now. */
  get liveTracks(): number {
    return this.#recording.size;
  }

  /** Ends every track and answers with all of them; the same answer on every call. */
  stop(reason: RecordingStopped['reason'] = 'stopped'): Promise<RecordingStopped> {
    this.#stopped ??= this.#stop(reason);
    return this.#stopped;
  }

  async #stop(reason: RecordingStopped['reason']): Promise<RecordingStopped> {
    this.#options.room.off('producerAdded', this.#onProducer);
    this.#options.room.off('closed', this.#onRoomClosed);
    const endedAt = Date.now();
    await Promise.all([...this.#live.keys()].map((producerId) => this.#end(producerId)));
    const tracks = (await Promise.all(this.#done)).filter((track): track is RecordedTrack => track !== null);
    const result: RecordingStopped = { recordingId: this.id, startedAt: this.startedAt, endedAt, reason, tracks };
    this.logger.info({ reason, tracks: tracks.length, sizeBytes: tracks.reduce((sum, t) => sum + t.sizeBytes, 0) }, 'recording stopped');
    this.emit('stopped', result);
    return result;
  }

  readonly #onProducer = (producer: types.Producer<ProducerAppData>): void => {
    if (this.active) void this.#record(producer);
  };

  readonly #onRoomClosed = (): void => {
    void this.stop('room-closed');
  };

  /** Starts a track; a producer that cannot be recorded is logged and skipped, the rest go on. */
  #record(producer: types.Producer<ProducerAppData>): Promise<TrackRecorder | null> {
    const starting = TrackRecorder.start({
      router: this.#options.room.primary,
      producer,
      dir: this.#dir,
      ports: this.#options.ports,
      logger: this.logger,
    }).then(
      (track) => {
        this.#recording.add(producer.id);
        track.on('producerClosed', () => void this.#end(producer.id));
        return track;
      },
      (error: unknown) => {
        this.logger.error({ err: error, producerId: producer.id }, 'cannot record producer');
        this.#live.delete(producer.id);
        return null;
      },
    );
    this.#live.set(producer.id, starting);
    return starting;
  }

  /** Finishes the producer's track and stores its file. */
  async #end(producerId: string): Promise<void> {
    const starting = this.#live.get(producerId);
    if (!starting) return;
    this.#live.delete(producerId);
    this.#recording.delete(producerId);
    const stored = starting.then(async (track) => {
      if (!track) return null;
      const finished = await track.finish();
      const { path, ...rest } = finished;
      const key = `${this.id}/${finished.fileName}`;
      const { store } = this.#options;
      let storage = store.kind;
      try {
        await store.put(key, path, track.contentType);
      } catch (error) {
        // The file is still on disk: the edge can fetch it from here.
        this.logger.error({ err: error, trackId: finished.trackId }, 'storing the track failed; it stays on local disk');
        storage = 'local';
      }
      const recorded: RecordedTrack = { ...rest, storage, key };
      this.emit('trackFinished', recorded);
      return recorded;
    });
    this.#done.push(stored);
    await stored;
  }
}
