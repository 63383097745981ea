import { useState } from 'preact/hooks';
import type { DirectoryEntry, PresenceStatus } from '@callstack/protocol';
import { Avatar } from './Avatar.tsx';
import { Field } from './Field.tsx';
import { PresenceDot } from './Presence.tsx';

interface DirectoryProps {
  users: DirectoryEntry[] | null;
  error: string | null;
  selfId: string;
  presenceOf: (userId: string) => PresenceStatus;
  /** Why calling is impossible right now, or null when it is possible. */
  callBlocked: string | null;
  onCall: (user: DirectoryEntry) => void;
  /** A phone number was typed (not an extension): the edge decides whether it may be called. */
  onDialNumber: (number: string) => void;
}

export function Directory({ users, error, selfId, presenceOf, callBlocked, onCall, onDialNumber }: DirectoryProps) {
  const [query, setQuery] = useState('');
  const [dialed, setDialed] = useState('');
  const [dialError, setDialError] = useState<string | null>(null);
  const needle = query.trim().toLowerCase();
  const others = (users ?? []).filter(
    (user) => user.id !== selfId && (user.displayName.toLowerCase().includes(needle) || user.email.toLowerCase().includes(needle) || user.extension === needle),
  );

  const dial = (event: Event) => {
    event.preventDefault();
    const number = dialedNumber(dialed);
    const user = number && (users ?? []).find((each) => each.extension === number && each.id !== selfId);
    if (!user && isPhoneNumber(dialed)) {
      setDialError(null);
      setDialed('');
      return onDialNumber(dialed.trim());
    }
    if (!user)
      return setDialError(
        number ? `No colleague has extension ${number}.` : 'Type an extension, a phone number, or a SIP address such as sip:101@your-domain.',
      );
    setDialError(null);
    setDialed('');
    onCall(user);
  };

  let body;
  if (users === null) body = <p class="muted">{error ?? 'Loading…'}</p>;
  else if (others.length === 0) body = <p class="muted">{needle ? 'No one matches your search.' : 'No one else is here yet.'}</p>;
  else
    body = (
      <ul class="list">
        {others.map((user) => {
          const offline = presenceOf(user.id) === 'offline';
          // Calling someone offline is allowed (they may sign in as it rings), but says what to expect.
          const hint = callBlocked ?? (offline ? `${user.displayName} is offline: the call will not ring anywhere` : undefined);
          return (
            <li key={user.id} class={`row${offline ? ' row-offline' : ''}`} data-testid="directory-entry" data-email={user.email}>
              <span class="avatar-with-dot">
                <Avatar name={user.displayName} />
                <PresenceDot status={presenceOf(user.id)} />
              </span>
              <span class="row-main">
                <span class="row-title">{user.displayName}</span>
                <span class="row-sub">
                  {offline && <span data-testid="offline-label">Offline · </span>}
                  {user.extension && <span data-testid="extension">Ext. {user.extension} · </span>}
                  {user.email}
                </span>
              </span>
              <button
                type="button"
                class={`btn btn-small${offline ? '' : ' btn-primary'}`}
                data-testid="call-button"
                aria-label={`Call ${user.displayName}`}
                aria-description={offline ? hint : undefined}
                title={hint}
                disabled={callBlocked !== null}
                onClick={() => onCall(user)}
              >
                Call
              </button>
            </li>
          );
        })}
      </ul>
    );

  return (
    <section class="card directory" aria-labelledby="directory-title">
      <h2 id="directory-title">People</h2>
      <form class="dial" onSubmit={dial} data-testid="dial-form">
        <Field
          id="dial-number"
          label="Dial an extension, a phone number or a SIP address"
          autocomplete="off"
          placeholder="101, +44 20 7946 0958 or sip:101@…"
          value={dialed}
          onValue={(value) => {
            setDialed(value);
            setDialError(null);
          }}
        />
        <button type="submit" class="btn btn-primary btn-small" data-testid="dial-button" disabled={callBlocked !== null} title={callBlocked ?? undefined}>
          Call
        </button>
        {dialError && (
          <p class="error" role="alert" data-testid="dial-error">
            {dialError}
          </p>
        )}
      </form>
      <Field
        id="directory-search"
        label="Search people"
        type="search"
        autocomplete="off"
        placeholder="Name, email or extension"
        value={query}
        onValue={setQuery}
      />
      {body}
    </section>
  );
}

/** A phone number rather than an extension: a leading + or 00, or more digits than extensions have (spaces, dashes, dots and brackets allowed). */
export function isPhoneNumber(typed: string): boolean {
  const text = typed.trim();
  if (!/^\+?[\d\s().-]+$/.test(text)) return false;
  const digits = text.replace(/\D/g, '');
  return text.startsWith('+') ? digits.length >= 6 : digits.length > 8 && digits.length <= 17;
}

/** The extension in what was typed: `101`, `sip:101@host` or `101@host` (spaces and dashes ignored); null for anything else. */
export function dialedNumber(typed: string): string | null {
  const text = typed.trim().replace(/^sips?:/i, '');
  const user = (text.split('@')[0] ?? '').replace(/[\s-]/g, '');
  return /^[0-9]{2,8}$/.test(user) ? user : null;
}
