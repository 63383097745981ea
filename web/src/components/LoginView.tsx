import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { LoginRequest } from '@callstack/protocol';
import { errorMessage } from '../api.ts';
import { Session } from '../session.ts';

export function LoginView({ notice, onSignedIn }: { notice: string | null; onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const request = v.safeParse(LoginRequest, { email, password });
    if (!request.success) {
      setError('Enter your email address and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await Session.login(request.output));
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  }

  return (
    <main class="login">
      {/* noValidate: our own checks put every problem in the same error area. */}
      <form class="card login-card" data-testid="login-form" noValidate onSubmit={(event) => void submit(event)}>
        <h1 class="brand brand-large">CallStack</h1>
        <p class="muted">Sign in to make and take calls.</p>
        {notice && <p class="notice">{notice}</p>}
        <div class="field">
          <label for="login-email">Email</label>
          <input
            id="login-email"
            type="email"
            autocomplete="username"
            value={email}
            onInput={(event) => setEmail(event.currentTarget.value)}
            autoFocus
            required
          />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input
            id="login-password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
            required
          />
        </div>
        {error && (
          <p class="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
