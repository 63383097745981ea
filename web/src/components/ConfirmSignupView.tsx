import { useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../api.ts';
import { Session } from '../session.ts';
import { Link } from './Link.tsx';

/** `/signup#<token>`, the mailed link: creates the organisation and signs its first admin in. */
export function ConfirmSignupView({ token, onSignedIn }: { token: string; onSignedIn: (session: Session) => void }) {
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    Session.confirmSignup(token).then(onSignedIn, (error: unknown) => setProblem(errorMessage(error)));
  }, [token]);
  return (
    <main class="login" aria-busy={problem === null}>
      <section class="card login-card" aria-labelledby="signup-confirm-title">
        <h1 class="brand brand-large" id="signup-confirm-title">
          CallStack
        </h1>
        {problem === null ? (
          <p class="muted">Creating your organisation…</p>
        ) : (
          <>
            <p class="error" role="alert" data-testid="signup-confirm-error">
              {problem}
            </p>
            <p class="auth-footer">
              <Link href="/signup">Sign up again</Link> or <Link href="/">sign in</Link>
            </p>
          </>
        )}
      </section>
    </main>
  );
}
