import type { CallRecordView, Party } from '@callstack/protocol';
import { endReasonLabel, formatDuration, formatWhen } from '../format.ts';
import { qualityLevel } from '../quality.ts';

interface CallHistoryProps {
  calls: CallRecordView[] | null;
  error: string | null;
  /** Calls the row's person; absent while no call can be placed (in a call, offline). */
  onCall?: (peer: Party) => void;
}

export function CallHistory({ calls, error, onCall }: CallHistoryProps) {
  let body;
  if (calls === null) body = <p class="muted">{error ?? 'Loading…'}</p>;
  else if (calls.length === 0) body = <p class="muted">No calls yet.</p>;
  else
    body = (
      <ol class="list">
        {calls.map((call) => (
          <li
            key={call.callId}
            class="row history-row"
            data-testid="history-row"
            data-call-id={call.callId}
            data-reason={call.endReason}
            data-duration-ms={call.durationMs}
          >
            <span
              class={`direction ${call.answeredAt ? '' : 'direction-unanswered'}`}
              role="img"
              aria-label={call.direction === 'outgoing' ? 'Outgoing' : 'Incoming'}
            >
              {call.direction === 'outgoing' ? '↗' : '↙'}
            </span>
            <span class="row-main">
              <span class="row-title">{call.peer.displayName}</span>
              <time class="row-sub" dateTime={call.createdAt}>
                {formatWhen(call.createdAt)}
              </time>
            </span>
            {call.quality && (
              <span
                class={`history-mos quality-${qualityLevel(call.quality.mosAvg).level}`}
                data-testid="history-mos"
                data-mos={call.quality.mosAvg}
                title={`Call quality: average MOS ${call.quality.mosAvg.toFixed(1)}, lowest ${call.quality.mosMin.toFixed(1)}`}
              >
                MOS {call.quality.mosAvg.toFixed(1)}
              </span>
            )}
            <span class="row-end">{call.answeredAt ? formatDuration(call.durationMs) : endReasonLabel(call.endReason)}</span>
            <button
              type="button"
              class="btn btn-small"
              data-testid="history-call"
              aria-label={`Call ${call.peer.displayName}`}
              disabled={!onCall}
              onClick={() => onCall?.(call.peer)}
            >
              Call
            </button>
          </li>
        ))}
      </ol>
    );

  return (
    <section class="card history" aria-labelledby="history-title" data-testid="call-history">
      <h2 id="history-title">Recent calls</h2>
      {calls !== null && error && <p class="muted">{error}</p>}
      {body}
    </section>
  );
}
