import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { LoginRequest } from '@callstack/protocol';
import { useAction } from '../hooks.ts';
import { Session } from '../session.ts';
import { AuthForm } from './AuthForm.tsx';
import { Field } from './Field.tsx';
import { Link } from './Link.tsx';

export function LoginView({ notice, onSignedIn }: { notice: string | null; onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();

  function submit(): void {
    const request = v.safeParse(LoginRequest, { email, password });
    if (!request.success) {
      action.setError('Enter your email address and password.');
      return;
    }
    void action.run(async () => onSignedIn(await Session.login(request.output)));
  }

  return (
    <AuthForm
      name="login"
      intro="Sign in to make and take calls."
      notice={notice}
      error={action.error}
      busy={action.busy}
      submitLabel="Sign in"
      busyLabel="Signing in…"
      onSubmit={submit}
      footer={
        <>
          <Link href="/forgot-password" testid="forgot-link">
            Forgot password?
          </Link>
          <br />
          New to CallStack?{' '}
          <Link href="/signup" testid="signup-link">
            Create an organisation
          </Link>
        </>
      }
    >
      <Field id="login-email" label="Email" type="email" autocomplete="username" value={email} onValue={setEmail} autoFocus required />
      <Field id="login-password" label="Password" type="password" autocomplete="current-password" value={password} onValue={setPassword} required />
    </AuthForm>
  );
}
