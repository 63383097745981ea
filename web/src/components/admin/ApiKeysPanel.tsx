import { useState } from 'preact/hooks';
import * as v from 'valibot';
import { CreateApiKeyRequest, type ApiKeyView, type CreatedApiKey, type Role } from '@callstack/protocol';
import { api } from '../../api.ts';
import { formatWhen } from '../../format.ts';
import { formProblem } from '../../forms.ts';
import { useAction, useFetched, useVersion } from '../../hooks.ts';
import { ROLE_LABELS } from '../../roles.ts';
import type { Session } from '../../session.ts';
import { CopyField } from '../CopyField.tsx';
import { Field, RoleSelect } from '../Field.tsx';
import { Confirm } from './Confirm.tsx';

const LABELS = { name: 'Name', role: 'Role' };

export function ApiKeysPanel({ session }: { session: Session }) {
  const [version, reload] = useVersion();
  const keys = useFetched(String(version), () => session.authed(api.apiKeys).then((response) => response.keys));

  let body;
  if (keys.data === null) body = <p class="muted">{keys.error ?? 'Loading…'}</p>;
  else if (keys.data.length === 0) body = <p class="muted">No API keys yet.</p>;
  else
    body = (
      <ul class="list">
        {keys.data.map((key) => (
          <KeyRow key={key.id} session={session} apiKey={key} onChanged={reload} />
        ))}
      </ul>
    );

  return (
    <>
      <CreateKeyForm session={session} onCreated={reload} />
      <section class="card" aria-labelledby="keys-title" aria-busy={keys.loading}>
        <h2 id="keys-title">API keys</h2>
        {keys.data !== null && keys.error && <p class="error">{keys.error}</p>}
        {body}
      </section>
    </>
  );
}

function CreateKeyForm({ session, onCreated }: { session: Session; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('user');
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const action = useAction();

  function submit(event: Event): void {
    event.preventDefault();
    const request = v.safeParse(CreateApiKeyRequest, { name, role });
    if (!request.success) {
      action.setError(formProblem(request.issues, LABELS));
      return;
    }
    void action.run(async () => {
      setCreated(await session.authed((token) => api.createApiKey(token, request.output)));
      setName('');
      onCreated();
    });
  }

  return (
    <section class="card" aria-labelledby="new-key-title">
      <h2 id="new-key-title">Create an API key</h2>
      <p class="muted">
        A key acts for the organisation with the role you give it. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <form class="inline-form" data-testid="api-key-form" noValidate onSubmit={submit}>
        <Field id="new-key-name" label={LABELS.name} autocomplete="off" placeholder="e.g. CRM sync" value={name} onValue={setName} required />
        <RoleSelect id="new-key-role" label={LABELS.role} value={role} onRole={setRole} />
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create key'}
        </button>
      </form>
      {action.error && (
        <p class="error" role="alert" data-testid="api-key-error">
          {action.error}
        </p>
      )}
      {created && (
        <div class="secret" data-testid="api-key-created" data-key-id={created.id}>
          <p class="secret-warning" role="alert">
            Copy this key now: it is shown only once. CallStack keeps only a hash of it, so a lost key has to be revoked and replaced.
          </p>
          <CopyField id="new-key-secret" label={`Secret of “${created.name}”`} value={created.key} testid="api-key-secret" />
          <button type="button" class="btn btn-small" data-testid="api-key-done" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      )}
    </section>
  );
}

function KeyRow({ session, apiKey, onChanged }: { session: Session; apiKey: ApiKeyView; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();

  async function revoke(): Promise<void> {
    const done = await action.run(async () => {
      await session.authed((token) => api.revokeApiKey(token, apiKey.id));
      onChanged();
    });
    if (done) setConfirming(false);
  }

  return (
    <li class="row row-wrap" data-testid="api-key" data-name={apiKey.name} data-prefix={apiKey.prefix} data-revoked={String(apiKey.revoked)}>
      <span class="row-main">
        <span class="row-title">{apiKey.name}</span>
        <span class="row-sub">
          <code>csk_{apiKey.prefix}_…</code> · {ROLE_LABELS[apiKey.role]} · created {formatWhen(apiKey.createdAt)} ·{' '}
          <span data-testid="last-used">{apiKey.lastUsedAt ? `last used ${formatWhen(apiKey.lastUsedAt)}` : 'never used'}</span>
        </span>
      </span>
      {apiKey.revoked ? (
        <span class="badge badge-muted">Revoked</span>
      ) : (
        <button type="button" class="btn btn-small" data-testid="revoke" disabled={confirming} onClick={() => setConfirming(true)}>
          Revoke
        </button>
      )}
      {confirming && !apiKey.revoked && (
        <Confirm
          question={`Revoke “${apiKey.name}”? Anything using it stops working at once.`}
          confirmLabel="Revoke"
          busy={action.busy}
          onConfirm={() => void revoke()}
          onCancel={() => {
            setConfirming(false);
            action.setError(null);
          }}
        />
      )}
      {action.error && (
        <p class="error row-full" role="alert">
          {action.error}
        </p>
      )}
    </li>
  );
}
