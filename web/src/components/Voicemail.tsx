import type { VoicemailView } from '@callstack/protocol';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { formatDuration, formatWhen } from '../format.ts';
import { useAction, useFetched, useVersion } from '../hooks.ts';
import type { Session } from '../session.ts';
import { callerLabel } from '../voicemail.ts';

/**
 * The signed-in person's voicemail, newest first: who called (their contact's name when the number
 * is in their contacts), when, for how long; each message played here (fetched with the session,
 * which marks it heard) and deleted for good.
 */
export function Voicemail({ session }: { session: Session }) {
  const [version, reload] = useVersion();
  const list = useFetched(String(version), () => session.authed(api.voicemails).then((response) => response.voicemails));
  const action = useAction();
  const [playing, setPlaying] = useState<{ id: string; url: string } | null>(null);
  // The object URL holds the audio in memory: released when another message plays or the view goes.
  useEffect(() => () => playing && URL.revokeObjectURL(playing.url), [playing]);

  function play(message: VoicemailView): void {
    void action.run(async () => {
      const audio = await session.authed((token) => api.voicemailAudio(token, message.id));
      setPlaying({ id: message.id, url: URL.createObjectURL(audio.blob) });
    });
  }

  function remove(message: VoicemailView): void {
    void action.run(async () => {
      await session.authed((token) => api.deleteVoicemail(token, message.id));
      if (playing?.id === message.id) setPlaying(null);
      reload();
    });
  }

  let body;
  if (list.data === null) body = <p class="muted">{list.error ?? 'Loading…'}</p>;
  else if (list.data.length === 0)
    body = (
      <p class="muted" data-testid="voicemail-empty">
        No messages.
      </p>
    );
  else
    body = (
      <ul class="plain-list voicemail-list" data-testid="voicemail-list">
        {list.data.map((message) => {
          const heard = message.heard || playing?.id === message.id;
          return (
            <li key={message.id} class="voicemail-item" data-testid="voicemail-row" data-voicemail-id={message.id} data-heard={String(heard)}>
              <div class="voicemail-summary">
                <strong data-testid="voicemail-caller">{callerLabel(message)}</strong>
                {message.fromName && message.from && <span class="muted mono"> {message.from}</span>}
                {!heard && <span class="badge"> New</span>}
                <div class="muted">
                  <time dateTime={message.receivedAt}>{formatWhen(message.receivedAt)}</time> ·{' '}
                  <span data-testid="voicemail-duration">{formatDuration(message.durationMs)}</span>
                </div>
              </div>
              <div class="voicemail-actions">
                <button type="button" class="btn btn-small" data-testid="voicemail-play" disabled={action.busy} onClick={() => play(message)}>
                  Play
                </button>
                <button type="button" class="btn btn-small btn-ghost" data-testid="voicemail-delete" disabled={action.busy} onClick={() => remove(message)}>
                  Delete
                </button>
              </div>
              {playing?.id === message.id && (
                <audio
                  class="voicemail-audio"
                  data-testid="voicemail-audio"
                  src={playing.url}
                  controls
                  autoplay
                  aria-label={`Message from ${callerLabel(message)}`}
                />
              )}
            </li>
          );
        })}
      </ul>
    );

  return (
    <section class="card" aria-labelledby="voicemail-title" aria-busy={list.loading} data-testid="voicemail">
      <div class="card-head">
        <h2 id="voicemail-title">Voicemail</h2>
        <button type="button" class="btn btn-small" data-testid="voicemail-refresh" disabled={list.loading} onClick={reload}>
          {list.loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
      {body}
    </section>
  );
}
