import type { RecordingTrackView, RecordingView } from '@callstack/protocol';
import { api } from '../api.ts';
import { formatDuration, formatWhen } from '../format.ts';
import { useAction, useFetched, useVersion } from '../hooks.ts';
import { formatBytes } from '../recordings.ts';
import { saveFile } from '../saveFile.ts';
import type { Session } from '../session.ts';

const STATUS_LABELS: Record<RecordingView['status'], string> = { recording: 'Recording now', completed: 'Completed', interrupted: 'Interrupted' };
const SOURCE_LABELS: Record<RecordingTrackView['source'], string> = { mic: 'Microphone', camera: 'Camera', screen: 'Screen share' };

/**
 * Conference recordings the signed-in person may see (rooms they were in; every recording for
 * operators and admins), newest first, one download per track.
 */
export function Recordings({ session }: { session: Session }) {
  const [version, reload] = useVersion();
  const list = useFetched(String(version), () => session.authed(api.recordings).then((response) => response.recordings));
  const downloading = useAction();

  function download(track: RecordingTrackView): void {
    void downloading.run(async () => {
      const file = await session.authed((token) => api.recordingTrack(token, track.downloadPath));
      saveFile(file.blob, file.filename ?? `${track.trackId}`);
    });
  }

  let body;
  if (list.data === null) body = <p class="muted">{list.error ?? 'Loading…'}</p>;
  else if (list.data.length === 0)
    body = (
      <p class="muted" data-testid="recordings-empty">
        No recordings yet.
      </p>
    );
  else
    body = (
      <div class="table-wrap">
        <table class="table" data-testid="recordings-table">
          <caption class="sr-only">Recordings, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Room</th>
              <th scope="col">Started by</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Size</th>
              <th scope="col">Tracks</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((recording) => (
              <tr key={recording.id} data-testid="recording-row" data-recording-id={recording.id} data-status={recording.status}>
                <td>
                  <span class="mono">{recording.roomId.slice(0, 8)}</span>
                  {recording.status !== 'completed' && <span class="muted"> · {STATUS_LABELS[recording.status]}</span>}
                </td>
                <td>{recording.startedBy.displayName}</td>
                <td>
                  <time dateTime={recording.startedAt}>{formatWhen(recording.startedAt)}</time>
                </td>
                <td data-testid="recording-duration">{recording.endedAt ? formatDuration(recording.durationMs) : '—'}</td>
                <td data-testid="recording-size">{formatBytes(recording.sizeBytes)}</td>
                <td>
                  <ul class="plain-list">
                    {recording.tracks.map((track) => (
                      <li key={track.trackId}>
                        <button
                          type="button"
                          class="btn btn-small btn-ghost"
                          data-testid="recording-download"
                          data-track-id={track.trackId}
                          disabled={downloading.busy}
                          onClick={() => download(track)}
                        >
                          {`${track.user?.displayName ?? 'Someone'} · ${SOURCE_LABELS[track.source]} · ${formatDuration(track.durationMs)}`}
                        </button>
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );

  return (
    <section class="card" aria-labelledby="recordings-title" aria-busy={list.loading} data-testid="recordings">
      <div class="card-head">
        <h2 id="recordings-title">Recordings</h2>
        <button type="button" class="btn btn-small" data-testid="recordings-refresh" disabled={list.loading} onClick={reload}>
          {list.loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      {downloading.error && (
        <p class="error" role="alert">
          {downloading.error}
        </p>
      )}
      {body}
    </section>
  );
}
