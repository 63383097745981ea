import type { ProducerSource } from '@callstack/protocol';
import type { Device } from 'mediasoup-client';
import type { RoomSignaling } from './RoomRequests.ts';
import type { ConferencePhase } from './roomState.ts';

export interface ConferenceOptions {
  signaling: RoomSignaling;
  /** ICE servers (TURN) for the transports; may be empty. */
  iceServers: () => Promise<RTCIceServer[]>;
  iceTransportPolicy: () => RTCIceTransportPolicy;
  /** Overridable for tests. */
  createDevice?: () => Device;
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  getDisplayMedia?: (options: DisplayMediaStreamOptions) => Promise<MediaStream>;
}

export interface InboundStats {
  peerId: string;
  source: ProducerSource;
  kind: 'audio' | 'video';
  consumerId: string;
  paused: boolean;
  packetsReceived: number;
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
}

export interface OutboundStats {
  source: ProducerSource;
  kind: 'audio' | 'video';
  rid: string | null;
  packetsSent: number;
  frameWidth: number;
  frameHeight: number;
  framesPerSecond: number;
}

export interface ConferenceStats {
  peerId: string | null;
  phase: ConferencePhase;
  migrations: number;
  transports: { send: string | null; recv: string | null };
  inbound: InboundStats[];
  outbound: OutboundStats[];
}
