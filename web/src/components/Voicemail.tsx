import type { VoicemailView } from '@callstack/protocol';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { formatDuration, formatWhen } from '../format.ts';
import { useAction, useFetched, useVersion } from '../hooks.ts';
import type { Session } from '../session.ts';
import { callerLabel } from '../voicemail.ts';

/** The signed-in person's voicemail: their messages, and the greeting callers hear. */
export function Voicemail({ session }: { session: Session }) {
  return (
    <>
      <VoicemailMessages session={session} />
      <Greeting session={session} />
    </>
  );
}

/**
 * What callers hear before the tone: the person's own recording (any audio file up to 1 MiB) or the
 * shipped greeting. Their own plays here; "Use the default" removes it.
 */
function Greeting({ session }: { session: Session }) {
  const [version, reload] = useVersion();
  const info = useFetched(`greeting:${version}`, () => session.authed(api.greetingInfo));
  const action = useAction();
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => () => url && URL.revokeObjectURL(url), [url]);

  const upload = (file: File | undefined) =>
    file &&
    void action.run(async () => {
      await session.authed((token) => api.setGreeting(token, file));
      setUrl(null);
      reload();
    });
  const play = () =>
    void action.run(async () => {
      const audio = await session.authed(api.greetingAudio);
      setUrl(URL.createObjectURL(audio.blob));
    });
  const useDefault = () =>
    void action.run(async () => {
      await session.authed(api.deleteGreeting);
      setUrl(null);
      reload();
    });

  return (
    <section class="card" aria-labelledby="greeting-title" data-testid="voicemail-greeting">
      <h2 id="greeting-title">Greeting</h2>
      <p data-testid="greeting-state" data-own={String(info.data?.own ?? false)}>
        {info.data === null ? (info.error ?? 'Loading…') : info.data.own ? 'Callers hear your own greeting.' : 'Callers hear the default greeting.'}
      </p>
      <div class="voicemail-actions">
        <label class="btn btn-small" for="greeting-file">
          Upload a greeting…
        </label>
        <input
          id="greeting-file"
          class="sr-only"
          type="file"
          accept="audio/wav,audio/mpeg,audio/ogg,audio/webm"
          data-testid="greeting-file"
          onChange={(event) => upload(event.currentTarget.files?.[0])}
        />
        {info.data?.own && (
          <>
            <button type="button" class="btn btn-small" data-testid="greeting-play" disabled={action.busy} onClick={play}>
              Play
            </button>
            <button type="button" class="btn btn-small btn-ghost" data-testid="greeting-default" disabled={action.busy} onClick={useDefault}>
              Use the default
            </button>
          </>
        )}
      </div>
      {url && <audio class="voicemail-audio" src={url} controls autoplay aria-label="Your greeting" data-testid="greeting-audio" />}
      {action.error && (
        <p class="error" role="alert" data-testid="greeting-error">
          {action.error}
        </p>
      )}
    </section>
  );
}

/**
 * Messages newest first: who called (their contact's name when the number is in their contacts),
 * when, for how long; each played here (fetched with the session, which marks it heard) and
 * deleted for good.
 */
function VoicemailMessages({ session }: { session: Session }) {
  const [version, reload] = useVersion();
  const list = useFetched(String(version), () => session.authed(api.voicemails).then((response) => response.voicemails));
  const action = useAction();
  const [playing, setPlaying] = useState<{ id: string; url: string } | null>(null);
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
  else body = <MessageList messages={list.data} playing={playing} busy={action.busy} onPlay={play} onDelete={remove} />;

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

interface MessageListProps {
  messages: VoicemailView[];
  playing: { id: string; url: string } | null;
  busy: boolean;
  onPlay: (message: VoicemailView) => void;
  onDelete: (message: VoicemailView) => void;
}

function MessageList({ messages, playing, busy, onPlay, onDelete }: MessageListProps) {
  return (
    <ul class="plain-list voicemail-list" data-testid="voicemail-list">
      {messages.map((message) => {
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
              <button type="button" class="btn btn-small" data-testid="voicemail-play" disabled={busy} onClick={() => onPlay(message)}>
                Play
              </button>
              <button type="button" class="btn btn-small btn-ghost" data-testid="voicemail-delete" disabled={busy} onClick={() => onDelete(message)}>
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
}
