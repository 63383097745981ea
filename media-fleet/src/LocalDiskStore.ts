import type { RecordingStore } from './RecordingStore.ts';

/** Development (and single-node) storage: files stay in MEDIA_RECORDINGS_DIR; the edge fetches them over the control API. */
export class LocalDiskStore implements RecordingStore {
  readonly kind = 'local' as const;

  async put(): Promise<void> {}
}
