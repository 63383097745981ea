/**
 * The organisation's phone numbers (DIDs: where each rings), its ring groups, its calling policy (the toll-fraud
 * guard's settings) and its recent calls to and from the outside, refusals with their reason.
 * Admins change them (pstn.manage); operators read (pstn.read). The edge validates every change.
 */
import { useEffect, useState } from 'preact/hooks';
import * as v from 'valibot';
import {
  AddPhoneNumberRequest,
  PstnPolicy,
  type AdminUserView,
  type NumberRoute,
  type PhoneNumberView,
  type PstnCallRecordView,
  type RingGroupView,
} from '@callstack/protocol';
import { api } from '../../api.ts';
import { formatWhen } from '../../format.ts';
import { formProblem } from '../../forms.ts';
import { useAction, useFetched, useVersion } from '../../hooks.ts';
import { routeOf, routeValue } from '../../numberRoutes.ts';
import type { Session } from '../../session.ts';
import { Field } from '../Field.tsx';
import { Confirm } from './Confirm.tsx';
import { RingGroupsPanel } from './RingGroupsPanel.tsx';

interface NumbersPanelProps {
  session: Session;
  users: AdminUserView[];
  canManage: boolean;
}

export function NumbersPanel({ session, users, canManage }: NumbersPanelProps) {
  const [version, reload] = useVersion();
  const numbers = useFetched(`numbers:${version}`, () => session.authed(api.phoneNumbers).then((response) => response.numbers));
  const calls = useFetched(`calls:${version}`, () => session.authed(api.pstnCalls).then((response) => response.calls));
  const groups = useFetched(`groups:${version}`, () => session.authed(api.ringGroups).then((response) => response.groups));
  const active = users.filter((user) => user.active);

  let body;
  if (numbers.data === null) body = <p class="muted">{numbers.error ?? 'Loading…'}</p>;
  else if (numbers.data.length === 0) body = <p class="muted">No numbers yet.</p>;
  else
    body = (
      <ul class="list">
        {numbers.data.map((number) => (
          <NumberRow key={number.number} session={session} number={number} users={active} groups={groups.data ?? []} canManage={canManage} onChanged={reload} />
        ))}
      </ul>
    );

  return (
    <>
      {canManage && <AddNumberForm session={session} users={active} groups={groups.data ?? []} onAdded={reload} />}
      <section class="card" aria-labelledby="numbers-title" aria-busy={numbers.loading}>
        <h2 id="numbers-title">Numbers</h2>
        {body}
      </section>
      <RingGroupsPanel session={session} groups={groups.data} users={active} canManage={canManage} onChanged={reload} />
      <PolicyForm session={session} canManage={canManage} />
      <section class="card" aria-labelledby="pstn-calls-title" aria-busy={calls.loading}>
        <div class="card-head">
          <h2 id="pstn-calls-title">Calls to and from the outside</h2>
          <button type="button" class="btn btn-small" data-testid="pstn-calls-refresh" disabled={calls.loading} onClick={reload}>
            {calls.loading ? 'Loading…' : 'Refresh'}
          </button>
        </div>
        {calls.data === null ? (
          <p class="muted">{calls.error ?? 'Loading…'}</p>
        ) : calls.data.length === 0 ? (
          <p class="muted">No calls yet.</p>
        ) : (
          <ul class="list">
            {calls.data.map((call) => (
              <CallRow key={call.callId} call={call} users={users} />
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function RouteSelect({
  id,
  label,
  value,
  users,
  groups,
  current,
  disabled,
  onValue,
}: {
  id: string;
  label: string;
  value: string;
  users: AdminUserView[];
  groups: RingGroupView[];
  current?: NumberRoute;
  disabled?: boolean;
  onValue: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(event) => onValue(event.currentTarget.value)}>
        <option value="none">Nobody (not in service)</option>
        {current?.kind === 'number' && <option value="number">Forwarded to {current.number}</option>}
        {users.map((user) => (
          <option key={user.id} value={`user:${user.id}`}>
            {user.displayName}
          </option>
        ))}
        {groups.map((group) => (
          <option key={group.id} value={`group:${group.id}`}>
            Ring group: {group.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function AddNumberForm({ session, users, groups, onAdded }: { session: Session; users: AdminUserView[]; groups: RingGroupView[]; onAdded: () => void }) {
  const [number, setNumber] = useState('');
  const [label, setLabel] = useState('');
  const [route, setRoute] = useState('none');
  const action = useAction();

  function submit(event: Event): void {
    event.preventDefault();
    const request = v.safeParse(AddPhoneNumberRequest, { number, label, route: routeOf(route) });
    if (!request.success) return action.setError(formProblem(request.issues, { number: 'Number', label: 'Label' }));
    void action.run(async () => {
      await session.authed((token) => api.addPhoneNumber(token, request.output));
      setNumber('');
      setLabel('');
      setRoute('none');
      onAdded();
    });
  }

  return (
    <section class="card" aria-labelledby="new-number-title">
      <h2 id="new-number-title">Add a number</h2>
      <p class="muted">A number your carrier delivers to this platform. Written without a +, it is read in the calling policy’s country.</p>
      <form class="inline-form" data-testid="number-form" noValidate onSubmit={submit}>
        <Field id="new-number" label="Number" autocomplete="off" placeholder="+44 20 7946 0958" value={number} onValue={setNumber} required />
        <Field id="new-number-label" label="Label" autocomplete="off" placeholder="e.g. Sales line" value={label} onValue={setLabel} />
        <RouteSelect id="new-number-route" label="Rings" value={route} users={users} groups={groups} onValue={setRoute} />
        <button type="submit" class="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Adding…' : 'Add number'}
        </button>
      </form>
      {action.error && (
        <p class="error" role="alert" data-testid="number-error">
          {action.error}
        </p>
      )}
    </section>
  );
}

function NumberRow({
  session,
  number,
  users,
  groups,
  canManage,
  onChanged,
}: {
  session: Session;
  number: PhoneNumberView;
  users: AdminUserView[];
  groups: RingGroupView[];
  canManage: boolean;
  onChanged: () => void;
}) {
  const [deleting, setDeleting] = useState(false);
  const action = useAction();

  const change = (value: string) =>
    void action.run(async () => {
      await session.authed((token) => api.updatePhoneNumber(token, number.number, { route: routeOf(value, number.route) }));
      onChanged();
    });
  const remove = async () => {
    if (await action.run(() => session.authed((token) => api.deletePhoneNumber(token, number.number)))) onChanged();
  };

  return (
    <li class="row row-wrap" data-testid="phone-number" data-number={number.number}>
      <span class="row-main">
        <span class="row-title">{number.number}</span>
        <span class="row-sub">{number.label || 'No label'}</span>
      </span>
      <RouteSelect
        id={`route-${number.number}`}
        label={`Where ${number.number} rings`}
        value={routeValue(number.route)}
        users={users}
        groups={groups}
        current={number.route}
        disabled={!canManage || action.busy}
        onValue={change}
      />
      {canManage && (
        <button type="button" class="btn btn-ghost btn-small" data-testid="number-delete" onClick={() => setDeleting(true)}>
          Remove
        </button>
      )}
      {deleting && (
        <Confirm
          question={`Remove ${number.number}? Calls to it stop ringing anyone here.`}
          confirmLabel="Remove"
          busy={action.busy}
          onConfirm={() => void remove()}
          onCancel={() => setDeleting(false)}
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

/** The policy as the form edits it: lists and numbers as typed. */
interface PolicyDraft {
  defaultCountry: string;
  internationalCountries: string;
  allowedPrefixes: string;
  maxConcurrentCalls: string;
  maxConcurrentCallsPerUser: string;
  maxCallsPerSecond: string;
  maxCallsPerMinutePerUser: string;
  maxCallDurationMinutes: string;
  mainNumber: string;
}

const POLICY_LABELS: Record<string, string> = {
  defaultCountry: 'Country',
  internationalCountries: 'Countries open to call',
  allowedPrefixes: 'Opened premium prefixes',
  maxConcurrentCalls: 'Calls at once',
  maxConcurrentCallsPerUser: 'Calls at once per person',
  maxCallsPerSecond: 'New calls per second',
  maxCallsPerMinutePerUser: 'New calls per minute per person',
  maxCallDurationSeconds: 'Longest call',
  mainNumber: 'Main number',
};

export function toDraft(policy: PstnPolicy): PolicyDraft {
  return {
    defaultCountry: policy.defaultCountry,
    internationalCountries: policy.internationalCountries.join(', '),
    allowedPrefixes: policy.allowedPrefixes.join(', '),
    maxConcurrentCalls: String(policy.maxConcurrentCalls),
    maxConcurrentCallsPerUser: String(policy.maxConcurrentCallsPerUser),
    maxCallsPerSecond: String(policy.maxCallsPerSecond),
    maxCallsPerMinutePerUser: String(policy.maxCallsPerMinutePerUser),
    maxCallDurationMinutes: String(policy.maxCallDurationSeconds / 60),
    mainNumber: policy.mainNumber ?? '',
  };
}

/** Comma-separated entries (spaces too, for `separators` /[\s,]+/): prefixes are written with spaces inside. */
const list = (typed: string, separators = /,/) =>
  typed
    .split(separators)
    .map((entry) => entry.trim())
    .filter(Boolean);

/** The draft as the edge's schema reads it (which then says what is wrong, field by field). */
export function fromDraft(draft: PolicyDraft): unknown {
  return {
    defaultCountry: draft.defaultCountry.trim().toUpperCase(),
    internationalCountries: list(draft.internationalCountries.toUpperCase(), /[\s,]+/),
    allowedPrefixes: list(draft.allowedPrefixes).map((prefix) => prefix.replace(/[\s().-]/g, '')),
    maxConcurrentCalls: Number(draft.maxConcurrentCalls),
    maxConcurrentCallsPerUser: Number(draft.maxConcurrentCallsPerUser),
    maxCallsPerSecond: Number(draft.maxCallsPerSecond),
    maxCallsPerMinutePerUser: Number(draft.maxCallsPerMinutePerUser),
    maxCallDurationSeconds: Math.round(Number(draft.maxCallDurationMinutes) * 60),
    mainNumber: draft.mainNumber.trim() === '' ? null : draft.mainNumber.replace(/[\s().-]/g, ''),
  };
}

function PolicyForm({ session, canManage }: { session: Session; canManage: boolean }) {
  const policy = useFetched('policy', () => session.authed(api.pstnPolicy));
  const [draft, setDraft] = useState<PolicyDraft | null>(null);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => {
    if (policy.data) setDraft(toDraft(policy.data));
  }, [policy.data]);

  if (!draft) return <section class="card">{policy.error ?? 'Loading…'}</section>;
  const set = (field: keyof PolicyDraft) => (value: string) => {
    setDraft({ ...draft, [field]: value });
    setSaved(false);
  };

  function submit(event: Event): void {
    event.preventDefault();
    const request = v.safeParse(PstnPolicy, fromDraft(draft!));
    if (!request.success) return action.setError(formProblem(request.issues, POLICY_LABELS));
    void action.run(async () => {
      setDraft(toDraft(await session.authed((token) => api.savePstnPolicy(token, request.output))));
      setSaved(true);
    });
  }

  const field = (name: keyof PolicyDraft, label: string, hint?: string) => (
    <Field id={`policy-${name}`} label={label} hint={hint} autocomplete="off" value={draft[name]} onValue={set(name)} disabled={!canManage} />
  );
  return (
    <section class="card" aria-labelledby="policy-title">
      <h2 id="policy-title">Calling policy</h2>
      <p class="muted">
        Calls abroad are closed until a country is opened here; premium-rate and high-risk numbers stay closed unless their prefix is opened. The limits refuse
        a call over them and mail the admins.
      </p>
      <form class="stack-form" data-testid="policy-form" noValidate onSubmit={submit}>
        {field('defaultCountry', POLICY_LABELS.defaultCountry!, 'Numbers without a + are read in this country (ISO code, e.g. GB)')}
        {field('internationalCountries', POLICY_LABELS.internationalCountries!, 'ISO codes, comma-separated (e.g. FR, DE)')}
        {field('allowedPrefixes', POLICY_LABELS.allowedPrefixes!, 'E.164 prefixes, e.g. +44 90')}
        {field('maxConcurrentCalls', POLICY_LABELS.maxConcurrentCalls!)}
        {field('maxConcurrentCallsPerUser', POLICY_LABELS.maxConcurrentCallsPerUser!)}
        {field('maxCallsPerSecond', POLICY_LABELS.maxCallsPerSecond!)}
        {field('maxCallsPerMinutePerUser', POLICY_LABELS.maxCallsPerMinutePerUser!)}
        {field('maxCallDurationMinutes', 'Longest call (minutes)', 'Calls are cut after this long (1 to 1440 minutes)')}
        {field('mainNumber', POLICY_LABELS.mainNumber!, 'The caller ID of people without a number of their own; empty: none')}
        {canManage && (
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {action.busy ? 'Saving…' : 'Save policy'}
          </button>
        )}
      </form>
      {saved && (
        <p class="notice" role="status" data-testid="policy-saved">
          Saved.
        </p>
      )}
      {action.error && (
        <p class="error" role="alert" data-testid="policy-error">
          {action.error}
        </p>
      )}
    </section>
  );
}

function CallRow({ call, users }: { call: PstnCallRecordView; users: AdminUserView[] }) {
  const who = users.find((user) => user.id === call.userId)?.displayName ?? 'Nobody';
  const outcome = call.refusal
    ? `Refused: ${call.refusal.replaceAll('_', ' ')}`
    : call.answeredAt
      ? `${Math.round(call.durationMs / 1000)} s`
      : call.endedAt
        ? `Not answered (${call.finalStatus ?? '—'})`
        : 'In progress';
  return (
    <li class="row row-wrap" data-testid="pstn-call" data-direction={call.direction} data-refusal={call.refusal ?? ''}>
      <span class="row-main">
        <span class="row-title">
          {call.direction === 'outbound' ? `${who} → ${call.destination}` : `${call.callerId ?? 'Unknown caller'} → ${who} (${call.did})`}
        </span>
        <span class="row-sub">
          {formatWhen(call.createdAt)} · {outcome}
          {call.trunkId && ` · via ${call.trunkId}`}
        </span>
      </span>
    </li>
  );
}
