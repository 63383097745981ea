/**
 * Conference recording for the room view: start and stop over the signaling socket, and what the
 * indicator says. Everyone in the room gets `room.recording` (the room view shows an indicator
 * while its `recording` is set) and `room.joined.recording` holds the one in progress on join.
 * Failures come back as `error` with the same `ref`: `forbidden` (not the room's creator, nor an
 * operator/admin), `invalid_state` (nothing is published yet, or not recording), `conflict`
 * (already recording).
 */
import type { RoomRecordingInfo } from '@callstack/protocol';
import { formatDuration } from './format.ts';
import type { SignalingClient } from './signaling.ts';

/** Sends `room.recording.start`/`stop` with `ref`; false when the socket is not open. */
export function setRecording(signaling: Pick<SignalingClient, 'send'>, roomId: string, on: boolean, ref: string = crypto.randomUUID().slice(0, 8)): boolean {
  return signaling.send({ type: on ? 'room.recording.start' : 'room.recording.stop', ref, roomId });
}

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
