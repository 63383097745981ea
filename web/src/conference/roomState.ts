/** The room as this device sees it: a pure fold of the room's announcements (protocol/src/rooms.ts). */
import { assertNever, type QualityUpdate, type RoomParticipant, type RoomProducerInfo, type RoomRecordingInfo } from '@callstack/protocol';
import type { RoomMessage } from '../signaling.ts';

export type ConferencePhase = 'idle' | 'joining' | 'joined' | 'reconnecting' | 'left' | 'failed';

/** Another participant's producer, and our consumer of it once there is one. */
export interface RemoteMedia extends RoomProducerInfo {
  consumerId: string | null;
  track: MediaStreamTrack | null;
  /** We paused our consumer (its tile is hidden). */
  consumerPaused: boolean;
  /** Spatial layer we asked for (simulcast only). */
  spatialLayer: number | null;
}

export interface ConferenceState {
  phase: ConferencePhase;
  roomId: string;
  peerId: string | null;
  /** The others in the room. */
  participants: RoomParticipant[];
  /** The others' producers. */
  media: RemoteMedia[];
  /** The last participant the node heard speaking (ours included); kept through silences. */
  speakerId: string | null;
  micOn: boolean;
  cameraOn: boolean;
  sharing: boolean;
  /** Set when phase is `failed`. */
  error: string | null;
  /** A problem that does not end the meeting (no camera, screen share refused…). */
  notice: string | null;
  /** Times the room moved to another media node while we were in it. */
  migrations: number;
  /** The recording in progress (everyone sees an indicator while it is set). */
  recording: RoomRecordingInfo | null;
  /** The room's creator (user id), from `room.joined`; null from an edge that does not say. */
  createdBy: string | null;
  /** The edge's rating of the audio this device received (`quality.update`); null until the first. */
  quality: QualityUpdate | null;
}

export function initialConference(roomId: string): ConferenceState {
  return {
    phase: 'idle',
    roomId,
    peerId: null,
    participants: [],
    media: [],
    speakerId: null,
    micOn: true,
    cameraOn: true,
    sharing: false,
    error: null,
    notice: null,
    migrations: 0,
    recording: null,
    createdBy: null,
    quality: null,
  };
}

function remote(producer: RoomProducerInfo): RemoteMedia {
  return { ...producer, consumerId: null, track: null, consumerPaused: false, spatialLayer: null };
}

/**
 * What the room's announcements do to the state (media setup is the controller's part). Returns
 * `state` itself for messages of another room or that change nothing.
 */
export function roomReducer(state: ConferenceState, message: RoomMessage): ConferenceState {
  if (message.roomId !== state.roomId) return state;
  switch (message.type) {
    case 'room.joined':
      return {
        ...state,
        phase: 'joined',
        peerId: message.peerId,
        participants: message.participants,
        media: message.producers.map(remote),
        recording: message.recording ?? null,
        createdBy: message.createdBy ?? null,
        error: null,
      };
    case 'room.participant.joined':
      return {
        ...state,
        participants: [...state.participants.filter((p) => p.peerId !== message.participant.peerId), message.participant],
      };
    case 'room.participant.left':
      return {
        ...state,
        participants: state.participants.filter((p) => p.peerId !== message.peerId),
        media: state.media.filter((m) => m.peerId !== message.peerId),
        speakerId: state.speakerId === message.peerId ? null : state.speakerId,
      };
    case 'room.producer.new':
      if (message.producer.peerId === state.peerId) return state;
      return { ...state, media: [...state.media.filter((m) => m.producerId !== message.producer.producerId), remote(message.producer)] };
    case 'room.producer.closed':
      return { ...state, media: state.media.filter((m) => m.producerId !== message.producerId) };
    case 'room.producer.paused':
      return { ...state, media: state.media.map((m) => (m.producerId === message.producerId ? { ...m, paused: message.paused } : m)) };
    case 'room.speaker':
      // A silence keeps the last speaker highlighted rather than flickering between beats.
      return message.peerId === null || message.peerId === state.speakerId ? state : { ...state, speakerId: message.peerId };
    case 'room.recording':
      return { ...state, recording: message.recording };
    case 'room.migrate':
      // Everything on the old node is gone; the others produce again and are announced anew.
      return { ...state, phase: 'reconnecting', media: [], migrations: state.migrations + 1 };
    case 'room.created':
    case 'room.transport.created':
    case 'room.produced':
    case 'room.consumed':
      return state;
    default:
      return assertNever(message);
  }
}
