import { useState } from 'preact/hooks';
// Not the conference module's index: that would bring mediasoup-client, which only the meeting view loads.
import { roomErrorMessage } from '../conference/errors.ts';
import { createRoom, type RoomSignaling } from '../conference/RoomRequests.ts';
import { navigate, roomIdFromLink } from '../route.ts';
import { Field } from './Field.tsx';

/** Start a meeting (a new room, then its view with the link to share) or join one by its link. */
export function Meetings({ signaling, online }: { signaling: RoomSignaling; online: boolean }) {
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [link, setLink] = useState('');
  const [linkError, setLinkError] = useState<string | null>(null);

  async function start(): Promise<void> {
    setStarting(true);
    setError(null);
    try {
      navigate(`/rooms/${await createRoom(signaling)}`);
    } catch (failure) {
      setError(roomErrorMessage(failure));
      setStarting(false);
    }
  }

  function join(event: Event): void {
    event.preventDefault();
    const roomId = roomIdFromLink(link);
    if (!roomId) {
      setLinkError('Paste a meeting link (…/rooms/…) or a meeting id.');
      return;
    }
    navigate(`/rooms/${roomId}`);
  }

  return (
    <section class="card meetings" aria-labelledby="meetings-title" data-testid="meetings">
      <h2 id="meetings-title">Meetings</h2>
      <p class="muted">Video meetings with anyone in your organisation: start one and share its link.</p>
      <div class="actions meetings-start">
        <button type="button" class="btn btn-primary" data-testid="start-meeting" disabled={!online || starting} onClick={() => void start()}>
          {starting ? 'Starting…' : 'Start a meeting'}
        </button>
      </div>
      {!online && <p class="hint">Not connected yet.</p>}
      {error && (
        <p class="error" role="alert" data-testid="meetings-error">
          {error}
        </p>
      )}
      <form class="inline-form" onSubmit={join} data-testid="join-form">
        <Field
          id="meeting-link"
          label="Join with a link"
          value={link}
          onValue={(value) => {
            setLink(value);
            setLinkError(null);
          }}
          placeholder="https://…/rooms/…"
          data-testid="join-link"
          aria-invalid={linkError !== null}
        />
        <button type="submit" class="btn" data-testid="join-meeting">
          Join
        </button>
      </form>
      {linkError && (
        <p class="error" role="alert">
          {linkError}
        </p>
      )}
    </section>
  );
}
