import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { AcceptInviteRequest, ErrorCode } from '@callstack/protocol';
import { ApiError, errorMessage } from '../api.ts';
import { formProblem } from '../forms.ts';
import { useAction } from '../hooks.ts';
import { Session } from '../session.ts';
import { AuthForm } from './AuthForm.tsx';
import { Field, NewPasswordField } from './Field.tsx';
import { Link } from './Link.tsx';

const LABELS = { displayName: 'Your name', password: 'Password' };

/**
 * `/invite#<token>`: the invitee picks a name and password and is signed in. The edge tells
 * nothing about an invite before it is accepted (there is no lookup route), so the organisation,
 * email and role are only known afterwards, and a used or expired invite shows up on submit.
 */
interface AcceptInviteViewProps {
  token: string | null;
  /** Who is signed in on this browser already, if anyone: joining replaces that session. */
  signedInAs: string | null;
  onSignedIn: (session: Session) => void;
}

export function AcceptInviteView({ token, signedInAs, onSignedIn }: AcceptInviteViewProps) {
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  // Why the invite can no longer be used (expired, used, unknown): then there is nothing to fill in.
  const [dead, setDead] = useState<{ code: string; message: string } | null>(
    token === null ? { code: 'incomplete', message: 'This invite link is incomplete. Open the whole link from your invitation.' } : null,
  );
  const action = useAction();

  if (dead || token === null) {
    return (
      <main class="login">
        <section class="card login-card" aria-labelledby="invite-title">
          <h1 class="brand brand-large" id="invite-title">
            CallStack
          </h1>
          <p class="error" role="alert" data-testid="invite-unusable" data-code={dead?.code}>
            {dead?.message}
          </p>
          <p class="muted">
            {dead?.code === ErrorCode.invalidState
              ? 'If you already joined, sign in. Otherwise ask the admin who invited you for a new invite.'
              : 'Ask the admin who invited you for a new invite.'}
          </p>
          <p class="auth-footer">
            <Link href="/">Go to sign in</Link>
          </p>
        </section>
      </main>
    );
  }

  function submit(inviteToken: string): void {
    const request = v.safeParse(AcceptInviteRequest, { token: inviteToken, displayName, password });
    if (!request.success) {
      action.setError(formProblem(request.issues, LABELS));
      return;
    }
    void action.run(async () => {
      try {
        onSignedIn(await Session.acceptInvite(request.output));
      } catch (failure) {
        const gone = failure instanceof ApiError && (failure.code === ErrorCode.invalidState || failure.code === ErrorCode.notFound);
        if (!gone) throw failure;
        setDead({ code: failure.code, message: errorMessage(failure) });
      }
    });
  }

  return (
    <AuthForm
      name="invite"
      intro="You have been invited to join an organisation on CallStack. Choose the name your colleagues will see and a password."
      notice={signedInAs && `You are signed in as ${signedInAs} on this browser. Joining signs you in as the invited person instead.`}
      error={action.error}
      busy={action.busy}
      submitLabel="Join"
      busyLabel="Joining…"
      onSubmit={() => submit(token)}
    >
      <Field id="invite-name" label={LABELS.displayName} autocomplete="name" value={displayName} onValue={setDisplayName} autoFocus required />
      <NewPasswordField id="invite-password" label={LABELS.password} value={password} onValue={setPassword} />
    </AuthForm>
  );
}
