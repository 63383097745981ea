import type { RecordingStorage } from '@callstack/protocol';

/**
 * Where finished track files end up. The node always writes them to MEDIA_RECORDINGS_DIR first;
 * `put` then keeps them there (LocalDiskStore) or uploads them (S3Store).
 */
export interface RecordingStore {
  readonly kind: RecordingStorage;
  /** Stores the file at `path` under `key` (`<recordingId>/<fileName>`). */
  put(key: string, path: string, contentType: string): Promise<void>;
}
