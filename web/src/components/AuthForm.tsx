import type { ComponentChildren } from 'preact';

interface AuthFormProps {
  /** Names the form and its error for the e2e selectors: `<name>-form`, `<name>-error`. */
  name: string;
  intro: string;
  notice?: string | null;
  error: string | null;
  busy: boolean;
  submitLabel: string;
  busyLabel: string;
  onSubmit: () => void;
  children: ComponentChildren;
  /** Links to the other signed-out screens. */
  footer?: ComponentChildren;
}

/** The centred card of the signed-out screens: sign-in, sign-up, accepting an invite. */
export function AuthForm({ name, intro, notice, error, busy, submitLabel, busyLabel, onSubmit, children, footer }: AuthFormProps) {
  return (
    <main class="login">
      {/* noValidate: our own checks put every problem in the same error area. */}
      <form
        class="card login-card"
        data-testid={`${name}-form`}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        <h1 class="brand brand-large">CallStack</h1>
        <p class="muted">{intro}</p>
        {notice && <p class="notice">{notice}</p>}
        {children}
        {error && (
          <p class="error" role="alert" data-testid={`${name}-error`}>
            {error}
          </p>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {footer && <p class="auth-footer">{footer}</p>}
      </form>
    </main>
  );
}
