import { useEffect, useState } from 'preact/hooks';
import * as v from 'valibot';
import { UpdateContactRequest, type ContactView, type DirectoryEntry, type Party, type PresenceStatus } from '@callstack/protocol';
import { api } from '../api.ts';
import { contactsQuery, newContactRequest, type NewContactForm } from '../contacts.ts';
import { formProblem } from '../forms.ts';
import { useAction, useFetched, useVersion } from '../hooks.ts';
import type { Session } from '../session.ts';
import { Confirm } from './admin/Confirm.tsx';
import { Avatar } from './Avatar.tsx';
import { Field } from './Field.tsx';
import { PresenceDot } from './Presence.tsx';

/** The search waits for a pause in typing, so each keystroke is not a request. */
const SEARCH_DELAY_MS = 250;

interface ContactsProps {
  session: Session;
  /** Colleagues to add (the directory, without the signed-in user). */
  colleagues: DirectoryEntry[];
  presenceOf: (userId: string) => PresenceStatus;
  callBlocked: string | null;
  onCall: (peer: Party) => void;
}

export function Contacts({ session, colleagues, presenceOf, callBlocked, onCall }: ContactsProps) {
  const [search, setSearch] = useState('');
  const [debounced, setDebounced] = useState('');
  const [favoritesOnly, setFavoritesOnly] = useState(false);
  const [version, reload] = useVersion();
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(search), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search]);
  const query = contactsQuery({ search: debounced, favoritesOnly });
  const contacts = useFetched(`${version}?${query}`, () => session.authed((token) => api.contacts(token, query)).then((response) => response.contacts));
  const filtered = debounced.trim() !== '' || favoritesOnly;

  let body;
  if (contacts.data === null) body = <p class="muted">{contacts.error ?? 'Loading…'}</p>;
  else if (contacts.data.length === 0)
    body = (
      <p class="muted" data-testid="contacts-empty">
        {filtered ? 'No contact matches.' : 'No contacts yet. Add colleagues or numbers below.'}
      </p>
    );
  else
    body = (
      <ul class="list">
        {contacts.data.map((contact) => (
          <ContactRow
            key={contact.id}
            session={session}
            contact={contact}
            presence={contact.userId === null ? null : presenceOf(contact.userId)}
            callBlocked={callBlocked}
            onCall={onCall}
            onChanged={reload}
          />
        ))}
      </ul>
    );

  return (
    <section class="card contacts" aria-labelledby="contacts-title" aria-busy={contacts.loading}>
      <h2 id="contacts-title">Contacts</h2>
      <div class="search-row">
        <Field
          id="contacts-search"
          label="Search contacts"
          type="search"
          autocomplete="off"
          placeholder="Name, email or number"
          value={search}
          onValue={setSearch}
        />
        <label class="check">
          <input type="checkbox" data-testid="contacts-favorites" checked={favoritesOnly} onChange={(event) => setFavoritesOnly(event.currentTarget.checked)} />
          Favorites only
        </label>
      </div>
      {contacts.data !== null && contacts.error && <p class="error">{contacts.error}</p>}
      {body}
      <AddContactForm session={session} colleagues={colleagues} onAdded={reload} />
    </section>
  );
}

interface ContactRowProps {
  session: Session;
  contact: ContactView;
  /** Null for external numbers, which have no presence. */
  presence: PresenceStatus | null;
  callBlocked: string | null;
  onCall: (peer: Party) => void;
  onChanged: () => void;
}

function ContactRow({ session, contact, presence, callBlocked, onCall, onChanged }: ContactRowProps) {
  const [step, setStep] = useState<'view' | 'rename' | 'delete'>('view');
  const [name, setName] = useState(contact.displayName);
  const action = useAction();

  function update(change: v.InferInput<typeof UpdateContactRequest>, done: () => void = () => undefined): void {
    const request = v.safeParse(UpdateContactRequest, change);
    if (!request.success) {
      action.setError(formProblem(request.issues, { displayName: 'Name' }));
      return;
    }
    void action.run(async () => {
      await session.authed((token) => api.updateContact(token, contact.id, request.output));
      done();
      onChanged();
    });
  }

  function remove(): void {
    void action.run(async () => {
      await session.authed((token) => api.deleteContact(token, contact.id));
      onChanged();
    });
  }

  const userId = contact.userId;
  return (
    <li
      class="row contact"
      data-testid="contact"
      data-contact-id={contact.id}
      data-kind={contact.kind}
      data-name={contact.displayName}
      data-favorite={String(contact.favorite)}
    >
      <span class="avatar-with-dot">
        <Avatar name={contact.displayName} />
        {presence && <PresenceDot status={presence} />}
      </span>
      {step === 'rename' ? (
        <form
          class="row-main inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            update({ displayName: name }, () => setStep('view'));
          }}
        >
          <Field id={`contact-name-${contact.id}`} label="Name" value={name} onValue={setName} data-testid="contact-name-input" autoFocus />
          <button type="submit" class="btn btn-primary btn-small" data-testid="contact-save" disabled={action.busy}>
            Save
          </button>
          <button type="button" class="btn btn-small" onClick={() => setStep('view')}>
            Cancel
          </button>
        </form>
      ) : (
        <span class="row-main">
          <span class="row-title">{contact.displayName}</span>
          <span class="row-sub">{contact.email ?? contact.phone}</span>
        </span>
      )}
      <button
        type="button"
        class="btn btn-ghost btn-small star"
        data-testid="contact-favorite"
        aria-pressed={contact.favorite}
        aria-label={`Favorite: ${contact.displayName}`}
        disabled={action.busy}
        onClick={() => update({ favorite: !contact.favorite })}
      >
        {contact.favorite ? '★' : '☆'}
      </button>
      {step === 'view' && (
        <>
          <button
            type="button"
            class="btn btn-ghost btn-small"
            data-testid="contact-rename"
            aria-label={`Rename ${contact.displayName}`}
            onClick={() => setStep('rename')}
          >
            Rename
          </button>
          <button
            type="button"
            class="btn btn-ghost btn-small"
            data-testid="contact-delete"
            aria-label={`Delete ${contact.displayName}`}
            onClick={() => setStep('delete')}
          >
            Delete
          </button>
        </>
      )}
      <button
        type="button"
        class="btn btn-primary btn-small"
        data-testid="contact-call"
        aria-label={`Call ${contact.displayName}`}
        title={callBlocked ?? undefined}
        disabled={callBlocked !== null}
        // An external contact is a number, dialled through the carrier trunks.
        onClick={() =>
          onCall(
            userId === null
              ? { userId: 'pstn-contact', displayName: contact.displayName, number: contact.phone! }
              : { userId, displayName: contact.displayName },
          )
        }
      >
        Call
      </button>
      {step === 'delete' && (
        <Confirm
          question={`Delete ${contact.displayName} from your contacts?`}
          confirmLabel="Delete"
          busy={action.busy}
          onConfirm={remove}
          onCancel={() => setStep('view')}
        />
      )}
      {action.error && (
        <p class="error" role="alert" data-testid="contact-error">
          {action.error}
        </p>
      )}
    </li>
  );
}

const EMPTY_FORM: NewContactForm = { kind: 'user', userId: '', displayName: '', phone: '' };

function AddContactForm({ session, colleagues, onAdded }: { session: Session; colleagues: DirectoryEntry[]; onAdded: () => void }) {
  const [form, setForm] = useState(EMPTY_FORM);
  const action = useAction();
  const set = (change: Partial<NewContactForm>) => setForm((current) => ({ ...current, ...change }));

  function submit(event: Event): void {
    event.preventDefault();
    const result = newContactRequest(form);
    if ('problem' in result) {
      action.setError(result.problem);
      return;
    }
    void action.run(async () => {
      await session.authed((token) => api.createContact(token, result.request));
      setForm({ ...EMPTY_FORM, kind: form.kind });
      onAdded();
    });
  }

  return (
    <form class="add-contact" data-testid="contact-form" noValidate onSubmit={submit} aria-labelledby="add-contact-title">
      <h3 id="add-contact-title">Add a contact</h3>
      <fieldset class="segmented">
        <legend class="sr-only">Kind of contact</legend>
        <label class="check">
          <input
            type="radio"
            name="new-contact-kind"
            value="user"
            data-testid="new-contact-colleague"
            checked={form.kind === 'user'}
            onChange={() => set({ kind: 'user' })}
          />
          Colleague
        </label>
        <label class="check">
          <input
            type="radio"
            name="new-contact-kind"
            value="external"
            data-testid="new-contact-external"
            checked={form.kind === 'external'}
            onChange={() => set({ kind: 'external' })}
          />
          Phone number
        </label>
      </fieldset>
      {form.kind === 'user' ? (
        <div class="field">
          <label for="new-contact-user">Colleague</label>
          <select id="new-contact-user" value={form.userId} onChange={(event) => set({ userId: event.currentTarget.value })}>
            <option value="">Choose…</option>
            {colleagues.map((colleague) => (
              <option key={colleague.id} value={colleague.id}>
                {colleague.displayName} ({colleague.email})
              </option>
            ))}
          </select>
        </div>
      ) : (
        <Field
          id="new-contact-phone"
          label="Number"
          type="tel"
          autocomplete="off"
          placeholder="+44 20 7946 0958"
          hint="With the country code."
          value={form.phone}
          onValue={(phone) => set({ phone })}
        />
      )}
      <Field
        id="new-contact-name"
        label={form.kind === 'user' ? 'Name (optional)' : 'Name'}
        autocomplete="off"
        value={form.displayName}
        onValue={(displayName) => set({ displayName })}
      />
      {action.error && (
        <p class="error" role="alert" data-testid="contact-form-error">
          {action.error}
        </p>
      )}
      <button type="submit" class="btn btn-primary" disabled={action.busy}>
        {action.busy ? 'Adding…' : 'Add contact'}
      </button>
    </form>
  );
}
