import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { ErrorCode, PasswordResetConfirmRequest, PasswordResetRequest } from '@callstack/protocol';
import { api, ApiError, errorMessage } from '../api.ts';
import { formProblem } from '../forms.ts';
import { useAction } from '../hooks.ts';
import { AuthForm } from './AuthForm.tsx';
import { Field, NewPasswordField } from './Field.tsx';
import { MessageCard } from './MessageCard.tsx';
import { Link } from './Link.tsx';

/** `/forgot-password`: asks for a mailed reset link. The answer never says whether the account exists. */
export function ForgotPasswordView() {
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const action = useAction();

  if (sentTo) {
    return (
      <MessageCard testid="reset-requested">
        <p>
          Check your mail. If <strong>{sentTo}</strong> has an account, a link to choose a new password is on its way. It works once, within an hour.
        </p>
      </MessageCard>
    );
  }

  function submit(): void {
    const request = v.safeParse(PasswordResetRequest, { email });
    if (!request.success) {
      action.setError(formProblem(request.issues, { email: 'Email' }));
      return;
    }
    void action.run(async () => {
      await api.requestPasswordReset(request.output);
      setSentTo(request.output.email);
    });
  }

  return (
    <AuthForm
      name="forgot"
      intro="Enter the email address you sign in with and we will mail you a link to choose a new password."
      error={action.error}
      busy={action.busy}
      submitLabel="Send reset link"
      busyLabel="Sending…"
      onSubmit={submit}
      footer={<Link href="/">Back to sign in</Link>}
    >
      <Field id="forgot-email" label="Email" type="email" autocomplete="username" value={email} onValue={setEmail} autoFocus required />
    </AuthForm>
  );
}

/**
 * `/reset#<token>`: choose a new password with the mailed link. The edge signs out every device
 * on success, so the next step is signing in.
 */
export function ResetPasswordView({ token, onReset }: { token: string | null; onReset: () => void }) {
  const [password, setPassword] = useState('');
  const [dead, setDead] = useState<string | null>(
    token === null ? 'This reset link is incomplete. Open the whole link from the mail, or ask for a new one.' : null,
  );
  const action = useAction();

  if (dead || token === null) {
    return (
      <MessageCard testid="reset-unusable" code={token === null ? 'incomplete' : ErrorCode.invalidState}>
        <p class="error">{dead}</p>
        <p>
          <Link href="/forgot-password">Ask for a new link</Link>
        </p>
      </MessageCard>
    );
  }

  function submit(resetToken: string): void {
    const request = v.safeParse(PasswordResetConfirmRequest, { token: resetToken, newPassword: password });
    if (!request.success) {
      action.setError(formProblem(request.issues, { newPassword: 'New password' }));
      return;
    }
    void action.run(async () => {
      try {
        await api.confirmPasswordReset(request.output);
        onReset();
      } catch (failure) {
        if (!(failure instanceof ApiError && failure.code === ErrorCode.invalidState)) throw failure;
        setDead(errorMessage(failure));
      }
    });
  }

  return (
    <AuthForm
      name="reset"
      intro="Choose a new password. Every device signed in to your account will be signed out."
      error={action.error}
      busy={action.busy}
      submitLabel="Set new password"
      busyLabel="Saving…"
      onSubmit={() => submit(token)}
    >
      <NewPasswordField id="reset-password" label="New password" value={password} onValue={setPassword} autoFocus />
    </AuthForm>
  );
}
