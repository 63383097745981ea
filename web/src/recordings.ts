/**
 * Conference recording as people read it: the room view's indicator text (start and stop go
 * through `Conference.setRecording`) and the Recordings page's sizes.
 */
import type { RoomRecordingInfo } from '@callstack/protocol';
import { formatDuration } from './format.ts';

/** The indicator's text: `Recording 1:05 · started by Ada`. */
export function recordingLabel(recording: RoomRecordingInfo, now = Date.now()): string {
  return `Recording ${formatDuration(now - recording.startedAt)} · started by ${recording.startedBy.displayName}`;
}

/** `1.4 MB`, `820 KB`, `12 B`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
