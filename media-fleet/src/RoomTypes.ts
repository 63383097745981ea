import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { MediaNodeEvent, ProducerSource } from '@callstack/protocol';
import type { WorkerPool } from './WorkerPool.ts';

export interface RtcSettings {
  listenIp: string;
  announcedIp: string | undefined;
  /** Allow `plain` transports (unencrypted RTP, no ICE/DTLS): tests and the benchmark only. */
  plainTransports: boolean;
}

export interface RoomOptions {
  roomId: string;
  pool: WorkerPool;
  rtc: RtcSettings;
  /** Consumers a worker takes before new recv transports of a room go to another worker. */
  consumersPerWorker: number;
  logger: Logger;
}

export type ProducerCloseReason = Extract<MediaNodeEvent, { type: 'producer.closed' }>['reason'];

export interface RoomEvents {
  speakerChanged: [peerId: string | null, producerId: string | null];
  /** A peer started producing (a recording in progress records it too). */
  producerAdded: [producer: types.Producer<ProducerAppData>];
  producerClosed: [peerId: string, producerId: string, reason: ProducerCloseReason];
  /** The last peer left; the room stays open until the edge closes it. */
  empty: [];
  closed: [];
}

/** What a producer carries in its appData (set by Peer, read by consumers in other peers). */
export interface ProducerAppData extends Record<string, unknown> {
  peerId: string;
  source: ProducerSource;
}
