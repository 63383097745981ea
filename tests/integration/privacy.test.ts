/** Data-protection rights: export of one's data, and erasure that keeps billing records anonymous. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallHistoryResponse, ContactsResponse } from '@callstack/protocol';
import { withClient } from '../../edge/scripts/migrations.ts';
import { api, createTenant, login, type TestTenant } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

type ErrorBody = { error: { code: string; message: string } };

/** A finished call between two users, as the edge would have recorded it. */
async function recordCall(tenant: TestTenant, callerId: string, calleeId: string, durationMs: number): Promise<string> {
  const callId = `call-${crypto.randomUUID()}`;
  await withClient(stack.database, (client) =>
    client.query(
      `insert into call_records (call_id, tenant_id, caller_id, callee_id, created_at, answered_at, ended_at, end_reason, duration_ms)
       values ($1, $2, $3, $4, now() - interval '2 minutes', now() - interval '1 minute', now(), 'hangup', $5)`,
      [callId, tenant.id, callerId, calleeId, durationMs],
    ),
  );
  return callId;
}

describe('privacy', () => {
  test('an export holds the profile, contacts, calls, SIP username and sessions, and no secrets', async () => {
    const tenant = await createTenant();
    const bob = await login(tenant.users.bob);
    await api('POST', '/api/contacts', { auth: bob.accessToken, body: { kind: 'external', phone: '+14155550111', displayName: 'Dentist' } });
    const callId = await recordCall(tenant, tenant.users.bob.id, tenant.users.alice.id, 42_000);

    const exported = await api<
      Record<string, unknown> & {
        profile: { email: string };
        contacts: unknown[];
        calls: { callId: string }[];
        sipCredentials: { username: string };
        sessions: unknown[];
      }
    >('GET', '/api/me/export', { auth: bob.accessToken });
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-disposition') ?? '', /attachment; filename="callstack-export-/);
    assert.equal(exported.body.profile.email, tenant.users.bob.email);
    assert.equal(exported.body.contacts.length, 1);
    assert.deepEqual(
      exported.body.calls.map((call) => call.callId),
      [callId],
    );
    assert.equal(exported.body.sipCredentials.username, tenant.users.bob.id, 'seeded phones register with the user id');
    assert.ok(exported.body.sessions.length >= 1);
    const text = JSON.stringify(exported.body);
    assert.doesNotMatch(text, /pbkdf2|ha1|password_hash|token_hash/i);
  });

  test('erasure removes the person, keeps their calls for billing anonymised, and needs the password', async () => {
    const tenant = await createTenant();
    const [bob, alice] = await Promise.all([login(tenant.users.bob), login(tenant.users.alice)]);
    const callId = await recordCall(tenant, tenant.users.alice.id, tenant.users.bob.id, 61_000);
    await api('POST', '/api/contacts', { auth: alice.accessToken, body: { kind: 'user', userId: tenant.users.bob.id } });

    const wrong = await api<ErrorBody>('DELETE', '/api/me', { auth: bob.accessToken, body: { password: 'not it' } });
    assert.equal(wrong.status, 401);
    assert.equal((await api('DELETE', '/api/me', { auth: bob.accessToken, body: { password: tenant.users.bob.password } })).status, 204);

    const signIn = await api('POST', '/api/auth/login', { body: { email: tenant.users.bob.email, password: tenant.users.bob.password } });
    assert.equal(signIn.status, 401);
    assert.equal((await api('POST', '/api/auth/refresh', { body: { refreshToken: bob.refreshToken } })).status, 401);

    const history = await api<CallHistoryResponse>('GET', '/api/calls', { auth: alice.accessToken });
    const call = history.body.calls.find((entry) => entry.callId === callId);
    assert.deepEqual([call?.peer.displayName, call?.durationMs], ['Erased user', 61_000]);
    assert.deepEqual((await api<ContactsResponse>('GET', '/api/contacts', { auth: alice.accessToken })).body.contacts, []);

    const [row] = await withClient(
      stack.database,
      async (client) =>
        (
          await client.query<{ email: string; display_name: string; sip: string | null }>(
            `select u.email, u.display_name, s.username as sip from users u left join sip_credentials s on s.user_id = u.id where u.id = $1`,
            [tenant.users.bob.id],
          )
        ).rows,
    );
    assert.deepEqual(row, { email: `erased+${tenant.users.bob.id}@erased.invalid`, display_name: 'Erased user', sip: null });
    const directory = await api<{ users: { id: string }[] }>('GET', '/api/users', { auth: alice.accessToken });
    assert.equal(
      directory.body.users.some((user) => user.id === tenant.users.bob.id),
      false,
    );
  });

  test('admins erase users of their own tenant only, and never the last admin', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const [alice, carol, foreign] = await Promise.all([login(tenant.users.alice), login(tenant.users.carol), login(other.users.alice)]);
    assert.equal((await api('POST', `/api/admin/users/${tenant.users.dave.id}/erase`, { auth: carol.accessToken })).status, 403);
    assert.equal((await api('POST', `/api/admin/users/${tenant.users.dave.id}/erase`, { auth: foreign.accessToken })).status, 404);
    assert.equal((await api('POST', `/api/admin/users/${tenant.users.dave.id}/erase`, { auth: alice.accessToken })).status, 204);
    assert.equal((await api('POST', `/api/admin/users/${tenant.users.dave.id}/erase`, { auth: alice.accessToken })).status, 404);
    const self = await api<ErrorBody>('DELETE', '/api/me', { auth: alice.accessToken, body: { password: tenant.users.alice.password } });
    assert.equal(self.status, 409, 'the last admin cannot erase themselves');
  });
});
