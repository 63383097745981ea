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
}

export function Directory({ users, error, selfId, presenceOf, callBlocked, onCall }: DirectoryProps) {
  const [query, setQuery] = useState('');
  const needle = query.trim().toLowerCase();
  const others = (users ?? []).filter(
    (user) => user.id !== selfId && (user.displayName.toLowerCase().includes(needle) || user.email.toLowerCase().includes(needle)),
  );

  let body;
  if (users === null) body = <p class="muted">{error ?? 'Loading…'}</p>;
  else if (others.length === 0) body = <p class="muted">{needle ? 'No one matches your search.' : 'No one else is here yet.'}</p>;
  else
    body = (
      <ul class="list">
        {others.map((user) => (
          <li key={user.id} class="row" data-testid="directory-entry" data-email={user.email}>
            <span class="avatar-with-dot">
              <Avatar name={user.displayName} />
              <PresenceDot status={presenceOf(user.id)} />
            </span>
            <span class="row-main">
              <span class="row-title">{user.displayName}</span>
              <span class="row-sub">{user.email}</span>
            </span>
            <button
              type="button"
              class="btn btn-primary btn-small"
              data-testid="call-button"
              aria-label={`Call ${user.displayName}`}
              title={callBlocked ?? undefined}
              disabled={callBlocked !== null}
              onClick={() => onCall(user)}
            >
              Call
            </button>
          </li>
        ))}
      </ul>
    );

  return (
    <section class="card directory" aria-labelledby="directory-title">
      <h2 id="directory-title">People</h2>
      <Field id="directory-search" label="Search people" type="search" autocomplete="off" placeholder="Name or email" value={query} onValue={setQuery} />
      {body}
    </section>
  );
}
