import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { CreateInviteRequest, type InviteResponse, type Role } from '@callstack/protocol';
import { api } from '../../api.ts';
import { formatWhen } from '../../format.ts';
import { formProblem } from '../../forms.ts';
import { useAction } from '../../hooks.ts';
import type { Session } from '../../session.ts';
import { CopyField } from '../CopyField.tsx';
import { Field, RoleSelect } from '../Field.tsx';

const LABELS = { email: 'Email', role: 'Role' };

/** Creates an invite and shows its link, which the admin sends however they like (no email is sent). */
export function InviteForm({ session }: { session: Session }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('user');
  const [invite, setInvite] = useState<InviteResponse | null>(null);
  const action = useAction();

  function submit(event: Event): void {
    event.preventDefault();
    const request = v.safeParse(CreateInviteRequest, { email, role });
    if (!request.success) {
      action.setError(formProblem(request.issues, LABELS));
      return;
    }
    void action.run(async () => {
      setInvite(await session.authed((token) => api.createInvite(token, request.output)));
      setEmail('');
    });
  }

  return (
    <section class="card" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <form class="inline-form" data-testid="invite-form" noValidate onSubmit={submit}>
        <Field id="new-invite-email" label={LABELS.email} type="email" autocomplete="off" value={email} onValue={setEmail} required />
        <RoleSelect id="new-invite-role" label={LABELS.role} value={role} onRole={setRole} />
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create invite'}
        </button>
      </form>
      {action.error && (
        <p class="error" role="alert" data-testid="invite-form-error">
          {action.error}
        </p>
      )}
      {invite && (
        <div class="notice" data-testid="invite-result" data-invite-id={invite.id}>
          <CopyField id="invite-link" label={`Invite link for ${invite.email}`} value={invite.url} testid="invite-link" />
          <p class="hint">
            Send this link to {invite.email}. It works once and expires {formatWhen(invite.expiresAt)}.
          </p>
        </div>
      )}
    </section>
  );
}
