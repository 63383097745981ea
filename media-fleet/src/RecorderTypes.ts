import type { Logger } from 'pino';
import type { RecordedTrack, RecordingStopped } from '@callstack/protocol';
import type { PortPairs } from './PortPairs.ts';
import type { RecordingStore } from './RecordingStore.ts';
import type { Room } from './Room.ts';

export interface RecorderOptions {
  room: Room;
  recordingId: string;
  /** MEDIA_RECORDINGS_DIR: files go to `<dir>/<recordingId>/<trackId>.<ext>`. */
  dir: string;
  store: RecordingStore;
  ports: PortPairs;
  logger: Logger;
}

export interface RecorderEvents {
  /** A track file is finished, measured and stored (its producer closed, or the recording stopped). */
  trackFinished: [track: RecordedTrack];
  stopped: [result: RecordingStopped];
}

/** A track file ffmpeg has finished, before it is stored. */
export interface FinishedTrack extends Omit<RecordedTrack, 'storage' | 'key'> {
  path: string;
}

export interface TrackRecorderEvents {
  /** The producer closed: the track ends on its own. */
  producerClosed: [];
}
