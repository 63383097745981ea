import type { ComponentChildren } from 'preact';
import { Link } from './Link.tsx';

/** A signed-out card with one message and a way back to sign-in. */
export function MessageCard({ testid, code, children }: { testid: string; code?: string; children: ComponentChildren }) {
  return (
    <main class="login">
      <section class="card login-card" aria-labelledby="message-title">
        <h1 class="brand brand-large" id="message-title">
          CallStack
        </h1>
        <div role="status" data-testid={testid} data-code={code}>
          {children}
        </div>
        <p class="auth-footer">
          <Link href="/">Go to sign in</Link>
        </p>
      </section>
    </main>
  );
}
