import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { ChangePasswordRequest, EraseAccountRequest, type CallerIdView, type RevealedSipCredentials } from '@callstack/protocol';
import { api } from '../api.ts';
import { saveFile } from '../saveFile.ts';
import { formatWhen } from '../format.ts';
import { formProblem } from '../forms.ts';
import { useAction, useFetched } from '../hooks.ts';
import { ROLE_LABELS } from '../roles.ts';
import type { Session } from '../session.ts';
import { Confirm } from './admin/Confirm.tsx';
import { CopyField } from './CopyField.tsx';
import { Field, NewPasswordField } from './Field.tsx';

interface ProfileViewProps {
  session: Session;
  /** The session ended here (signed out everywhere, account erased): back to sign-in with `notice`. */
  onEnded: (notice: string) => void;
}

/** `/profile`: who I am, my password, my SIP credentials, my caller ID, my data. */
export function ProfileView({ session, onEnded }: ProfileViewProps) {
  const { user } = session;
  return (
    <div class="profile" data-testid="profile">
      <section class="card" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <dl class="facts">
          <dt>Name</dt>
          <dd data-testid="profile-name">{user.displayName}</dd>
          <dt>Email</dt>
          <dd data-testid="profile-email">{user.email}</dd>
          <dt>Role</dt>
          <dd data-testid="profile-role">{ROLE_LABELS[user.role]}</dd>
        </dl>
      </section>
      <ChangePassword session={session} />
      <SipCredentials session={session} />
      <CallerId session={session} />
      <Sessions session={session} onEnded={onEnded} />
      <PersonalData session={session} onEnded={onEnded} />
    </div>
  );
}

function ChangePassword({ session }: { session: Session }) {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [changed, setChanged] = useState(false);
  const action = useAction();

  function submit(event: Event): void {
    event.preventDefault();
    setChanged(false);
    const request = v.safeParse(ChangePasswordRequest, { currentPassword, newPassword });
    if (!request.success) {
      action.setError(formProblem(request.issues, { currentPassword: 'Current password', newPassword: 'New password' }));
      return;
    }
    void action.run(async () => {
      await session.changePassword(request.output);
      setCurrent('');
      setNew('');
      setChanged(true);
    });
  }

  return (
    <section class="card" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form class="stack-form" data-testid="password-form" noValidate onSubmit={submit}>
        <Field
          id="current-password"
          label="Current password"
          type="password"
          autocomplete="current-password"
          value={currentPassword}
          onValue={setCurrent}
          required
        />
        <NewPasswordField id="new-password" label="New password" hint="Your other devices will be signed out." value={newPassword} onValue={setNew} />
        {action.error && (
          <p class="error" role="alert" data-testid="password-error">
            {action.error}
          </p>
        )}
        {changed && (
          <p class="notice" role="status" data-testid="password-changed">
            Password changed. Your other devices have been signed out.
          </p>
        )}
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
    </section>
  );
}

function SipCredentials({ session }: { session: Session }) {
  const credentials = useFetched('sip', () => session.authed(api.sipCredentials));
  const [revealed, setRevealed] = useState<RevealedSipCredentials | null>(null);
  const action = useAction();
  const shown = revealed ?? credentials.data;

  function rotate(): void {
    void action.run(async () => setRevealed(await session.authed(api.rotateSipCredentials)));
  }

  return (
    <section class="card" aria-labelledby="sip-title" data-testid="sip-credentials">
      <h2 id="sip-title">SIP credentials</h2>
      <p class="muted">For desk phones and SIP apps. The password is shown only when you generate a new one.</p>
      {shown ? (
        <dl class="facts">
          <dt>Username</dt>
          <dd data-testid="sip-username">{shown.username}</dd>
          <dt>Realm</dt>
          <dd data-testid="sip-realm">{shown.realm}</dd>
          <dt>Password set</dt>
          <dd>{formatWhen(shown.rotatedAt)}</dd>
        </dl>
      ) : (
        <p class="muted">{credentials.error ?? 'Loading…'}</p>
      )}
      {revealed ? (
        <div class="secret" data-testid="sip-revealed">
          <p class="secret-warning" role="alert">
            Copy this password now: it is shown only once. Devices using the old password stop registering.
          </p>
          <CopyField id="sip-password" label="New SIP password" value={revealed.password} testid="sip-password" />
          <button type="button" class="btn btn-small" data-testid="sip-done" onClick={() => setRevealed(null)}>
            I have copied it
          </button>
        </div>
      ) : (
        <button type="button" class="btn" data-testid="sip-rotate" disabled={action.busy || !shown} onClick={rotate}>
          {action.busy ? 'Generating…' : 'Generate new password'}
        </button>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </section>
  );
}

/** The number calls to the outside show, and the choice to withhold it. */
function CallerId({ session }: { session: Session }) {
  const loaded = useFetched('caller-id', () => session.authed(api.callerId));
  const [current, setCurrent] = useState<CallerIdView | null>(null);
  // The box shows the choice at once; the text says what the edge made of it.
  const [wanted, setWanted] = useState<boolean | null>(null);
  const action = useAction();
  const shown = current ?? loaded.data;

  function toggle(withheld: boolean): void {
    setWanted(withheld);
    void action.run(async () => setCurrent(await session.authed((token) => api.setCallerId(token, { withheld })))).finally(() => setWanted(null));
  }

  return (
    <section class="card" aria-labelledby="caller-id-title" data-testid="caller-id">
      <h2 id="caller-id-title">Caller ID</h2>
      {shown ? (
        <>
          <p data-testid="caller-id-number">
            {shown.withheld
              ? 'People you call outside see no number.'
              : shown.number
                ? `People you call outside see ${shown.number}.`
                : 'Your organisation has no number for you: people you call outside see no number.'}
          </p>
          <label class="check">
            <input
              type="checkbox"
              data-testid="caller-id-withheld"
              checked={wanted ?? shown.withheld}
              disabled={action.busy}
              onChange={(event) => toggle(event.currentTarget.checked)}
            />
            Withhold my number on calls to the outside
          </label>
        </>
      ) : (
        <p class="muted">{loaded.error ?? 'Loading…'}</p>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </section>
  );
}

function Sessions({ session, onEnded }: ProfileViewProps) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  return (
    <section class="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Signed-in devices</h2>
      <p class="muted">Signs out every browser and app signed in as you, this one included.</p>
      {confirming ? (
        <Confirm
          question="Sign out everywhere?"
          confirmLabel="Sign out everywhere"
          busy={action.busy}
          onConfirm={() =>
            void action.run(async () => {
              await session.signOutEverywhere();
              onEnded('You have been signed out on every device.');
            })
          }
          onCancel={() => setConfirming(false)}
        />
      ) : (
        <button type="button" class="btn" data-testid="logout-all" onClick={() => setConfirming(true)}>
          Sign out everywhere
        </button>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </section>
  );
}

function PersonalData({ session, onEnded }: ProfileViewProps) {
  const [erasing, setErasing] = useState(false);
  const [password, setPassword] = useState('');
  const exporting = useAction();
  const erase = useAction();

  function exportData(): void {
    void exporting.run(async () => {
      const file = await session.authed(api.exportMyData);
      saveFile(file.blob, file.filename ?? 'callstack-export.json');
    });
  }

  function submitErase(event: Event): void {
    event.preventDefault();
    const request = v.safeParse(EraseAccountRequest, { password });
    if (!request.success) {
      erase.setError(formProblem(request.issues, { password: 'Password' }));
      return;
    }
    void erase.run(async () => {
      await session.eraseAccount(request.output);
      onEnded('Your account has been deleted.');
    });
  }

  return (
    <section class="card" aria-labelledby="data-title">
      <h2 id="data-title">Your data</h2>
      <p class="muted">Everything CallStack holds about you: profile, contacts, call history, sign-ins.</p>
      <div class="actions">
        <button type="button" class="btn" data-testid="export-data" disabled={exporting.busy} onClick={exportData}>
          {exporting.busy ? 'Preparing…' : 'Download my data'}
        </button>
        {!erasing && (
          <button type="button" class="btn btn-danger" data-testid="erase-account" onClick={() => setErasing(true)}>
            Delete my account
          </button>
        )}
      </div>
      {exporting.error && (
        <p class="error" role="alert">
          {exporting.error}
        </p>
      )}
      {erasing && (
        <form class="confirm stack-form" data-testid="erase-form" noValidate onSubmit={submitErase}>
          <p>
            Deleting your account signs you out everywhere and removes your profile, contacts and sign-ins for good. Call records stay for billing but no longer
            name you.
          </p>
          <Field
            id="erase-password"
            label="Your password"
            type="password"
            autocomplete="current-password"
            value={password}
            onValue={setPassword}
            autoFocus
            required
          />
          {erase.error && (
            <p class="error" role="alert" data-testid="erase-error">
              {erase.error}
            </p>
          )}
          <div class="confirm-actions">
            <button type="submit" class="btn btn-danger btn-small" data-testid="erase-confirm" disabled={erase.busy}>
              {erase.busy ? 'Deleting…' : 'Delete my account'}
            </button>
            <button type="button" class="btn btn-small" onClick={() => setErasing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
