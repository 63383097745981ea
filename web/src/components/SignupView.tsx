import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { SignupRequest } from '@callstack/protocol';
import { api } from '../api.ts';
import { formProblem } from '../forms.ts';
import { useAction } from '../hooks.ts';
import { AuthForm } from './AuthForm.tsx';
import { Field, NewPasswordField } from './Field.tsx';
import { Link } from './Link.tsx';
import { MessageCard } from './MessageCard.tsx';

const LABELS = { organisation: 'Organisation name', displayName: 'Your name', email: 'Email', password: 'Password' };

/**
 * A new organisation with the person signing up as its first admin, once they open the link the
 * edge mails to the address (ConfirmSignupView); the answer is the same whether or not the
 * address has an account, and so is this screen.
 */
export function SignupView() {
  const [organisation, setOrganisation] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const action = useAction();

  function submit(): void {
    const request = v.safeParse(SignupRequest, { organisation, displayName, email, password });
    if (!request.success) {
      action.setError(formProblem(request.issues, LABELS));
      return;
    }
    void action.run(async () => {
      await api.signup(request.output);
      setSentTo(request.output.email);
    });
  }

  if (sentTo !== null) {
    return (
      <MessageCard testid="signup-sent">
        <p class="notice">Check your mail: we sent a message to {sentTo}. Open the link in it within 24 hours to create your organisation.</p>
      </MessageCard>
    );
  }

  return (
    <AuthForm
      name="signup"
      intro="Create an organisation. You will be its admin and can invite your colleagues."
      error={action.error}
      busy={action.busy}
      submitLabel="Create organisation"
      busyLabel="Creating…"
      onSubmit={submit}
      footer={
        <>
          Already have an account? <Link href="/">Sign in</Link>
        </>
      }
    >
      <Field
        id="signup-organisation"
        label={LABELS.organisation}
        autocomplete="organization"
        value={organisation}
        onValue={setOrganisation}
        autoFocus
        required
      />
      <Field id="signup-name" label={LABELS.displayName} autocomplete="name" value={displayName} onValue={setDisplayName} required />
      <Field id="signup-email" label={LABELS.email} type="email" autocomplete="email" value={email} onValue={setEmail} required />
      <NewPasswordField id="signup-password" label={LABELS.password} value={password} onValue={setPassword} />
    </AuthForm>
  );
}
