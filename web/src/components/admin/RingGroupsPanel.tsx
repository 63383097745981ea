/**
 * The organisation's ring groups: people a number rings together or one after another. Admins add
 * and remove them (a group a number rings cannot be removed: the edge says so); operators read.
 */
import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { CreateRingGroupRequest, type AdminUserView, type RingGroupStrategy, type RingGroupView } from '@callstack/protocol';
import { api } from '../../api.ts';
import { formProblem } from '../../forms.ts';
import { useAction } from '../../hooks.ts';
import type { Session } from '../../session.ts';
import { Field } from '../Field.tsx';

const STRATEGY_LABELS: Record<RingGroupStrategy, string> = { simultaneous: 'All at once', 'in-order': 'One after another' };

interface RingGroupsPanelProps {
  session: Session;
  groups: RingGroupView[] | null;
  users: AdminUserView[];
  canManage: boolean;
  onChanged: () => void;
}

export function RingGroupsPanel({ session, groups, users, canManage, onChanged }: RingGroupsPanelProps) {
  const action = useAction();
  const nameOf = (userId: string) => users.find((user) => user.id === userId)?.displayName ?? 'Someone no longer here';
  const remove = (group: RingGroupView) =>
    void action.run(async () => {
      await session.authed((token) => api.deleteRingGroup(token, group.id));
      onChanged();
    });

  return (
    <section class="card" aria-labelledby="ring-groups-title" data-testid="ring-groups">
      <h2 id="ring-groups-title">Ring groups</h2>
      <p class="muted">People a number rings together (the first to answer takes the call) or one after another.</p>
      {groups === null ? (
        <p class="muted">Loading…</p>
      ) : groups.length === 0 ? (
        <p class="muted">No ring groups yet.</p>
      ) : (
        <ul class="list">
          {groups.map((group) => (
            <li key={group.id} class="row row-wrap" data-testid="ring-group" data-group-id={group.id}>
              <span class="row-main">
                <span class="row-title">{group.name}</span>
                <span class="row-sub">
                  {STRATEGY_LABELS[group.strategy]} · {group.memberTimeoutSeconds} s{group.strategy === 'in-order' ? ' each' : ''} ·{' '}
                  {group.members.map(nameOf).join(', ')}
                </span>
              </span>
              {canManage && (
                <button type="button" class="btn btn-ghost btn-small" data-testid="ring-group-delete" disabled={action.busy} onClick={() => remove(group)}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
      {canManage && <AddRingGroupForm session={session} users={users} onAdded={onChanged} />}
    </section>
  );
}

function AddRingGroupForm({ session, users, onAdded }: { session: Session; users: AdminUserView[]; onAdded: () => void }) {
  const [name, setName] = useState('');
  const [strategy, setStrategy] = useState<RingGroupStrategy>('simultaneous');
  const [timeout, setTimeoutSeconds] = useState('20');
  const [members, setMembers] = useState<string[]>([]);
  const action = useAction();

  function toggle(userId: string, on: boolean): void {
    setMembers((current) => (on ? [...current, userId] : current.filter((id) => id !== userId)));
  }

  function submit(event: Event): void {
    event.preventDefault();
    const request = v.safeParse(CreateRingGroupRequest, { name, strategy, memberTimeoutSeconds: Number(timeout), members });
    if (!request.success) return action.setError(formProblem(request.issues, { name: 'Name', memberTimeoutSeconds: 'Ring time', members: 'Members' }));
    void action.run(async () => {
      await session.authed((token) => api.addRingGroup(token, request.output));
      setName('');
      setMembers([]);
      onAdded();
    });
  }

  return (
    <form class="stack-form" data-testid="ring-group-form" noValidate onSubmit={submit}>
      <h3>Add a ring group</h3>
      <Field id="ring-group-name" label="Name" autocomplete="off" placeholder="e.g. Support" value={name} onValue={setName} required />
      <div class="field">
        <label for="ring-group-strategy">Rings</label>
        <select id="ring-group-strategy" value={strategy} onChange={(event) => setStrategy(event.currentTarget.value as RingGroupStrategy)}>
          <option value="simultaneous">{STRATEGY_LABELS.simultaneous}</option>
          <option value="in-order">{STRATEGY_LABELS['in-order']}, in the order ticked</option>
        </select>
      </div>
      <Field id="ring-group-timeout" label="Ring time (seconds, each in order)" type="number" value={timeout} onValue={setTimeoutSeconds} />
      <fieldset class="field">
        <legend>Members</legend>
        {users.map((user) => (
          <label key={user.id} class="checkbox">
            <input
              type="checkbox"
              data-testid="ring-group-member"
              value={user.id}
              checked={members.includes(user.id)}
              onChange={(event) => toggle(user.id, event.currentTarget.checked)}
            />{' '}
            {user.displayName}
          </label>
        ))}
      </fieldset>
      <button type="submit" class="btn btn-primary" disabled={action.busy}>
        {action.busy ? 'Adding…' : 'Add ring group'}
      </button>
      {action.error && (
        <p class="error" role="alert" data-testid="ring-group-error">
          {action.error}
        </p>
      )}
    </form>
  );
}
