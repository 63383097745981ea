import type { RoomRecordingInfo } from '@callstack/protocol';
import { useEffect, useState } from 'preact/hooks';
import type { Conference } from '../../conference/index.ts';
import { recordingLabel } from '../../recordings.ts';

/** The red badge everyone in the room sees while it is recorded; the elapsed time ticks each second. */
export function RecordingIndicator({ recording }: { recording: RoomRecordingInfo | null }) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!recording) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [recording]);
  if (!recording) return null;
  return (
    <span class="badge badge-recording" role="status" data-testid="recording-indicator" data-recording-id={recording.recordingId}>
      <span class="recording-dot" aria-hidden="true" />
      {recordingLabel(recording, now)}
    </span>
  );
}

/**
 * Record / Stop recording, for those the edge lets record (the caller decides whether to show it).
 * Disabled while the request is under way; a refusal shows as the room's notice.
 */
export function RecordButton({ conference }: { conference: Conference }) {
  const [busy, setBusy] = useState(false);
  const recording = conference.state.recording !== null;
  const toggle = () => {
    setBusy(true);
    void conference.setRecording(!recording).finally(() => setBusy(false));
  };
  return (
    <button type="button" class="btn" data-testid="room-record" data-recording={String(recording)} disabled={busy} onClick={toggle}>
      {recording ? 'Stop recording' : 'Record'}
    </button>
  );
}
