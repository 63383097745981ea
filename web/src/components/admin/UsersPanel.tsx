import { useEffect, useState } from 'preact/hooks';
import type { AdminUserView, Role } from '@callstack/protocol';
import { api } from '../../api.ts';
import { useAction, type Fetched } from '../../hooks.ts';
import { ROLE_LABELS } from '../../roles.ts';
import type { Session } from '../../session.ts';
import { Avatar } from '../Avatar.tsx';
import { RoleSelect } from '../Field.tsx';
import { Confirm } from './Confirm.tsx';
import { InviteForm } from './InviteForm.tsx';

interface UsersPanelProps {
  session: Session;
  users: Fetched<AdminUserView[]>;
  /** Role changes, deactivation and invites (admins); operators only read. */
  canManage: boolean;
  onChanged: () => void;
}

export function UsersPanel({ session, users, canManage, onChanged }: UsersPanelProps) {
  let body;
  if (users.data === null) body = <p class="muted">{users.error ?? 'Loading…'}</p>;
  else if (users.data.length === 0) body = <p class="muted">No users yet.</p>;
  else
    body = (
      <ul class="list">
        {users.data.map((user) => (
          <UserRow key={user.id} session={session} user={user} canManage={canManage} onChanged={onChanged} />
        ))}
      </ul>
    );

  return (
    <>
      {canManage && <InviteForm session={session} />}
      <section class="card" aria-labelledby="users-title" aria-busy={users.loading}>
        <div class="card-head">
          <h2 id="users-title">Users</h2>
          <button type="button" class="btn btn-small" data-testid="users-refresh" disabled={users.loading} onClick={onChanged}>
            {users.loading ? 'Loading…' : 'Refresh'}
          </button>
        </div>
        {users.data !== null && users.error && <p class="error">{users.error}</p>}
        {body}
      </section>
    </>
  );
}

type Pending = { kind: 'role'; role: Role } | { kind: 'deactivate' };

function UserRow({ session, user, canManage, onChanged }: { session: Session; user: AdminUserView; canManage: boolean; onChanged: () => void }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const action = useAction();
  const isSelf = user.id === session.user.id;
  // Once the reloaded list shows the change, the row shows the user as they are.
  useEffect(() => setPending(null), [user.role, user.active]);

  async function confirm(step: Pending): Promise<void> {
    const done = await action.run(async () => {
      if (step.kind === 'role') await session.authed((token) => api.setRole(token, user.id, { role: step.role }));
      else await session.authed((token) => api.deactivate(token, user.id));
      onChanged();
    });
    // Refused (e.g. the last admin): back to the user as they are, with the edge's reason below.
    if (!done) setPending(null);
  }

  const name = `${user.displayName}${isSelf ? ' (you)' : ''}`;
  return (
    <li class="row row-wrap" data-testid="admin-user" data-user-id={user.id} data-email={user.email} data-role={user.role} data-active={String(user.active)}>
      <Avatar name={user.displayName} />
      <span class="row-main">
        <span class="row-title">{name}</span>
        <span class="row-sub">{user.email}</span>
      </span>
      {!user.active ? (
        <span class="badge badge-muted">Deactivated</span>
      ) : canManage && isSelf ? (
        // No footgun: an admin's own role and account are changed by another admin (the edge also keeps the last one).
        <span class="badge" data-testid="self-role" title="Another admin can change your role or deactivate your account">
          {ROLE_LABELS[user.role]}
        </span>
      ) : canManage ? (
        <>
          <RoleSelect
            id={`role-${user.id}`}
            label={`Role of ${user.displayName}`}
            hideLabel
            testid="role-select"
            value={pending?.kind === 'role' ? pending.role : user.role}
            disabled={action.busy}
            onRole={(role) => {
              action.setError(null);
              setPending(role === user.role ? null : { kind: 'role', role });
            }}
          />
          <button
            type="button"
            class="btn btn-small"
            data-testid="deactivate"
            aria-label={`Deactivate ${user.displayName}`}
            disabled={action.busy}
            onClick={() => {
              action.setError(null);
              setPending({ kind: 'deactivate' });
            }}
          >
            Deactivate
          </button>
        </>
      ) : (
        <span class="badge">{ROLE_LABELS[user.role]}</span>
      )}
      {pending && (
        <Confirm
          question={
            pending.kind === 'role'
              ? `Make ${user.displayName} ${article(pending.role)} ${ROLE_LABELS[pending.role].toLowerCase()}?`
              : `Deactivate ${user.displayName}? They will no longer be able to sign in.`
          }
          confirmLabel={pending.kind === 'role' ? 'Change role' : 'Deactivate'}
          busy={action.busy}
          onConfirm={() => void confirm(pending)}
          onCancel={() => {
            setPending(null);
            action.setError(null);
          }}
        />
      )}
      {action.error && (
        <p class="error row-full" role="alert" data-testid="user-error">
          {action.error}
        </p>
      )}
    </li>
  );
}

function article(role: Role): string {
  return role === 'admin' || role === 'operator' ? 'an' : 'a';
}
