/**
 * Organisations running themselves: sign-up, invites, roles, deactivation, API keys, the audit
 * log; with the role matrix and tenant isolation checked on every admin route.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ApiKeyView, CreatedApiKey, InviteResponse, SessionResponse } from '@callstack/protocol';
import { withClient } from '../../edge/scripts/migrations.ts';
import { api, createTenant, login, sentMail, waitForMail, type TestTenant } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

interface Sessions {
  admin: string;
  operator: string;
  user: string;
}

async function sessionsOf(tenant: TestTenant): Promise<Sessions> {
  const [admin, operator, user] = await Promise.all([login(tenant.users.alice), login(tenant.users.carol), login(tenant.users.bob)]);
  return { admin: admin.accessToken, operator: operator.accessToken, user: user.accessToken };
}

const strongPassword = 'a long enough password';

describe('sign-up and invites', () => {
  test('sign-up mails a link that creates the organisation with its owner as admin, once', async () => {
    const email = `owner-${crypto.randomUUID().slice(0, 8)}@signup.test`;
    const request = { organisation: 'Acme Telecom', displayName: 'Olivia Owner', email, password: strongPassword };
    const started = await api<{ email: string }>('POST', '/api/signup', { body: request });
    assert.equal(started.status, 202);
    assert.deepEqual(started.body, { email });
    // Nothing exists until the link is used.
    assert.equal((await api('POST', '/api/auth/login', { body: { email, password: strongPassword } })).status, 401);
    const [mail] = await waitForMail(email);
    assert.equal(mail!.subject, 'Confirm your CallStack sign-up');
    const token = /\/signup#([A-Za-z0-9_-]+)/.exec(mail!.text)![1]!;
    const created = await api<SessionResponse>('POST', '/api/signup/confirm', { body: { token } });
    assert.equal(created.status, 201);
    assert.equal(created.body.user.role, 'admin');
    const users = await api<{ users: { email: string }[] }>('GET', '/api/admin/users', { auth: created.body.accessToken });
    assert.deepEqual(
      users.body.users.map((user) => user.email),
      [email],
    );
    const twice = await api<{ error: { code: string } }>('POST', '/api/signup/confirm', { body: { token } });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'invalid_state');
    const weak = await api<{ error: { code: string; message: string } }>('POST', '/api/signup', {
      body: { organisation: 'Weak Ltd', displayName: 'W', email: `weak-${crypto.randomUUID()}@signup.test`, password: 'short' },
    });
    assert.equal(weak.status, 400);
    assert.match(weak.body.error.message, /^password: /);
  });

  test('no account oracle: a taken address gets the same answer, its owner a mail without a link, and nothing is created', async () => {
    const tenant = await createTenant();
    const taken = tenant.users.bob.email;
    const fresh = `fresh-${crypto.randomUUID().slice(0, 8)}@signup.test`;
    const ask = (email: string) => api('POST', '/api/signup', { body: { organisation: 'Probe Ltd', displayName: 'Probe', email, password: strongPassword } });
    const [forTaken, forFresh] = [await ask(taken), await ask(fresh)];
    assert.deepEqual([forTaken.status, forFresh.status], [202, 202]);
    assert.deepEqual(Object.keys(forTaken.body as object), Object.keys(forFresh.body as object));
    const [notice] = await waitForMail(taken);
    assert.equal(notice!.subject, 'Your CallStack sign-up');
    assert.doesNotMatch(notice!.text, /\/signup#/);
    const pending = await withClient(
      stack.database,
      async (client) =>
        (await client.query<{ email: string }>(`select email from signup_requests where email = any($1) order by email`, [[taken, fresh]])).rows,
    );
    assert.deepEqual(pending, [{ email: fresh }]);
  });

  test('sign-up is throttled per address like sign-in: the sixth try in a row is refused with Retry-After', async () => {
    const email = `spray-${crypto.randomUUID().slice(0, 8)}@signup.test`;
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push((await api('POST', '/api/signup', { body: { organisation: `Spray ${i}`, displayName: 'S', email, password: strongPassword } })).status);
    }
    assert.deepEqual(answers, [202, 202, 202, 202, 202, 429]);
    await waitForMail(email, 5);
    assert.equal(sentMail(email).length, 5, 'no mail for the refused try');
  });

  test('an invite link makes a user of the role given, once, and not after it expires', async () => {
    const tenant = await createTenant();
    const { admin } = await sessionsOf(tenant);
    const email = `invitee-${crypto.randomUUID().slice(0, 8)}@invite.test`;
    const invite = await api<InviteResponse>('POST', '/api/invites', { auth: admin, body: { email, role: 'operator' } });
    assert.equal(invite.status, 201);
    assert.ok(invite.body.url.endsWith(`#${invite.body.token}`));

    const accepted = await api<SessionResponse>('POST', '/api/invites/accept', {
      body: { token: invite.body.token, displayName: 'Ivy Invitee', password: strongPassword },
    });
    assert.equal(accepted.status, 201);
    assert.deepEqual([accepted.body.user.tenantId, accepted.body.user.role, accepted.body.user.email], [tenant.id, 'operator', email]);
    const reused = await api<{ error: { code: string } }>('POST', '/api/invites/accept', {
      body: { token: invite.body.token, displayName: 'Again', password: strongPassword },
    });
    assert.equal(reused.status, 409);

    const late = await api<InviteResponse>('POST', '/api/invites', { auth: admin, body: { email: `late-${email}`, role: 'user' } });
    await withClient(stack.database, (client) => client.query(`update invites set expires_at = now() - interval '1 second' where id = $1`, [late.body.id]));
    const expired = await api<{ error: { code: string; message: string } }>('POST', '/api/invites/accept', {
      body: { token: late.body.token, displayName: 'Late', password: strongPassword },
    });
    assert.equal(expired.status, 409);
    assert.match(expired.body.error.message, /expired/);
    const unknown = await api('POST', '/api/invites/accept', { body: { token: 'x'.repeat(43), displayName: 'Nobody', password: strongPassword } });
    assert.equal(unknown.status, 404);
  });
});

describe('the role matrix on every admin route', () => {
  let tenant: TestTenant;
  let sessions: Sessions;
  before(async () => {
    tenant = await createTenant();
    sessions = await sessionsOf(tenant);
  });

  // Expected status per role; each request is harmless when allowed (unknown ids answer 404).
  const routes: { method: string; path: () => string; body?: unknown; allowed: Record<'admin' | 'operator' | 'user', number> }[] = [
    { method: 'GET', path: () => '/api/users', allowed: { admin: 200, operator: 200, user: 200 } },
    { method: 'GET', path: () => '/api/calls', allowed: { admin: 200, operator: 200, user: 200 } },
    { method: 'GET', path: () => '/api/turn-credentials', allowed: { admin: 200, operator: 200, user: 200 } },
    { method: 'GET', path: () => '/api/admin/users', allowed: { admin: 200, operator: 200, user: 403 } },
    { method: 'GET', path: () => '/api/admin/audit', allowed: { admin: 200, operator: 200, user: 403 } },
    { method: 'PUT', path: () => '/api/admin/users/nobody/role', body: { role: 'user' }, allowed: { admin: 404, operator: 403, user: 403 } },
    { method: 'POST', path: () => '/api/admin/users/nobody/deactivate', allowed: { admin: 404, operator: 403, user: 403 } },
    { method: 'GET', path: () => '/api/admin/api-keys', allowed: { admin: 200, operator: 403, user: 403 } },
    { method: 'DELETE', path: () => '/api/admin/api-keys/nobody', allowed: { admin: 404, operator: 403, user: 403 } },
    { method: 'POST', path: () => '/api/invites', body: { email: 'matrix@invite.test', role: 'user' }, allowed: { admin: 201, operator: 403, user: 403 } },
  ];

  for (const route of routes) {
    test(`${route.method} ${route.path()}`, async () => {
      for (const role of ['admin', 'operator', 'user'] as const) {
        const result = await api(route.method, route.path(), { auth: sessions[role], body: route.body });
        assert.equal(result.status, route.allowed[role], `${role}: ${JSON.stringify(result.body)}`);
      }
      const anonymous = await api(route.method, route.path(), { body: route.body });
      assert.equal(anonymous.status, 401);
    });
  }
});

describe('tenant isolation', () => {
  test('an admin of one tenant gets 404 for every resource of another, never data', async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const [adminA, adminB] = await Promise.all([login(a.users.alice), login(b.users.alice)]);
    const keyB = await api<CreatedApiKey>('POST', '/api/admin/api-keys', { auth: adminB.accessToken, body: { name: 'B key', role: 'user' } });

    for (const [method, path, body] of [
      ['PUT', `/api/admin/users/${b.users.bob.id}/role`, { role: 'admin' }],
      ['POST', `/api/admin/users/${b.users.bob.id}/deactivate`, undefined],
      ['DELETE', `/api/admin/api-keys/${keyB.body.id}`, undefined],
    ] as const) {
      const result = await api(method, path, { auth: adminA.accessToken, body });
      assert.equal(result.status, 404, `${method} ${path}`);
    }
    const directory = await api<{ users: { id: string }[] }>('GET', '/api/users', { auth: adminA.accessToken });
    assert.ok(
      directory.body.users.every((user) => user.id.endsWith(a.id.slice(2))),
      'only own users',
    );
    const keysA = await api<{ keys: ApiKeyView[] }>('GET', '/api/admin/api-keys', { auth: adminA.accessToken });
    assert.deepEqual(keysA.body.keys, []);
    const auditA = await api<{ entries: { targetId: string | null }[] }>('GET', '/api/admin/audit', { auth: adminA.accessToken });
    assert.ok(auditA.body.entries.every((entry) => entry.targetId !== keyB.body.id));
    // B's bob is untouched.
    const usersB = await api<{ users: { id: string; role: string; active: boolean }[] }>('GET', '/api/admin/users', { auth: adminB.accessToken });
    assert.deepEqual(usersB.body.users.find((user) => user.id === b.users.bob.id)?.role, 'user');
    // B's key cannot reach A's data either: it sees B's directory.
    const viaKey = await api<{ users: { id: string }[] }>('GET', '/api/users', { auth: keyB.body.key });
    assert.ok(viaKey.body.users.some((user) => user.id === b.users.bob.id));
    assert.ok(!viaKey.body.users.some((user) => user.id === a.users.bob.id));
  });
});

describe('administering users', () => {
  test('role changes are audited with actor, target, IP and details; the last admin cannot be demoted', async () => {
    const tenant = await createTenant();
    const { admin } = await sessionsOf(tenant);
    assert.equal((await api('PUT', `/api/admin/users/${tenant.users.bob.id}/role`, { auth: admin, body: { role: 'operator' } })).status, 204);
    const log = await api<{ entries: { actorId: string; action: string; targetId: string; ip: string | null; details: unknown }[] }>(
      'GET',
      '/api/admin/audit?action=user.role_changed',
      { auth: admin },
    );
    assert.equal(log.body.entries.length, 1);
    assert.deepEqual(
      { ...log.body.entries[0], ip: typeof log.body.entries[0]!.ip },
      { ...log.body.entries[0], actorId: tenant.users.alice.id, targetId: tenant.users.bob.id, details: { from: 'user', to: 'operator' }, ip: 'string' },
    );
    const demoteSelf = await api('PUT', `/api/admin/users/${tenant.users.alice.id}/role`, { auth: admin, body: { role: 'user' } });
    assert.equal(demoteSelf.status, 409);
    const badRole = await api('PUT', `/api/admin/users/${tenant.users.bob.id}/role`, { auth: admin, body: { role: 'root' } });
    assert.equal(badRole.status, 400);
  });

  test('a deactivated user can no longer sign in or refresh, and leaves the directory', async () => {
    const tenant = await createTenant();
    const { admin } = await sessionsOf(tenant);
    const bobSession = await login(tenant.users.bob);
    assert.equal((await api('POST', `/api/admin/users/${tenant.users.bob.id}/deactivate`, { auth: admin })).status, 204);
    const signIn = await api('POST', '/api/auth/login', { body: { email: tenant.users.bob.email, password: tenant.users.bob.password } });
    assert.equal(signIn.status, 401);
    assert.equal((await api('POST', '/api/auth/refresh', { body: { refreshToken: bobSession.refreshToken } })).status, 401);
    const directory = await api<{ users: { id: string }[] }>('GET', '/api/users', { auth: admin });
    assert.ok(!directory.body.users.some((user) => user.id === tenant.users.bob.id));
    assert.equal((await api('POST', `/api/admin/users/${tenant.users.alice.id}/deactivate`, { auth: admin })).status, 409);
  });

  test('failed sign-ins of a known account are in the audit log', async () => {
    const tenant = await createTenant();
    await api('POST', '/api/auth/login', { body: { email: tenant.users.dave.email, password: 'wrong password' } });
    const { admin } = await sessionsOf(tenant);
    const log = await api<{ entries: { action: string; actorType: string; targetId: string }[] }>('GET', '/api/admin/audit?action=auth.login_failed', {
      auth: admin,
    });
    assert.deepEqual(
      log.body.entries.map((entry) => [entry.actorType, entry.targetId]),
      [['anonymous', tenant.users.dave.id]],
    );
  });
});

describe('API keys', () => {
  test('a key is shown once, works with its role, is audited when used, and stops working when revoked', async () => {
    const tenant = await createTenant();
    const { admin } = await sessionsOf(tenant);
    const created = await api<CreatedApiKey>('POST', '/api/admin/api-keys', { auth: admin, body: { name: 'CRM sync', role: 'operator' } });
    assert.equal(created.status, 201);
    assert.match(created.body.key, /^csk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    const listed = await api<{ keys: (ApiKeyView & { key?: string })[] }>('GET', '/api/admin/api-keys', { auth: admin });
    assert.equal(listed.body.keys.length, 1);
    assert.equal(listed.body.keys[0]!.key, undefined, 'the secret is never listed');
    const stored = await withClient(stack.database, (client) => client.query('select key_hash from api_keys where id = $1', [created.body.id]));
    assert.notEqual(stored.rows[0].key_hash, created.body.key);

    assert.equal((await api('GET', '/api/admin/users', { auth: created.body.key })).status, 200);
    assert.equal((await api('GET', '/api/admin/api-keys', { auth: created.body.key })).status, 403, 'an operator key cannot manage keys');
    const used = await api<{ entries: { actorType: string; actorId: string }[] }>('GET', '/api/admin/audit?action=api_key.used', { auth: admin });
    assert.deepEqual(
      used.body.entries.map((entry) => [entry.actorType, entry.actorId]),
      [['api_key', created.body.id]],
    );

    assert.equal((await api('DELETE', `/api/admin/api-keys/${created.body.id}`, { auth: admin })).status, 204);
    const revoked = await api<{ error: { code: string } }>('GET', '/api/users', { auth: created.body.key });
    assert.equal(revoked.status, 401);
    assert.equal((await api('GET', '/api/users', { auth: 'csk_forged12_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' })).status, 401);
  });
});
