/**
 * Account security: sign-in rate limiting with backoff, password change and reset by mailed link,
 * signing out everywhere, and SIP credentials.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { RevealedSipCredentials, SessionResponse, SipCredentialsView } from '@callstack/protocol';
import { withClient } from '../../edge/scripts/migrations.ts';
import { PresenceClient } from '../lib/PresenceClient.ts';
import { SignalingClient } from '../lib/SignalingClient.ts';
import { api, createTenant, login, sentMail, signUp, waitForMail, type TestUser } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

type ErrorBody = { error: { code: string; message: string } };

const NEW_PASSWORD = 'a brand new passphrase';

/** Each test claims its own client address, so per-IP counters never meet across tests. */
function freshIp(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  return `198.18.${bytes[0]}.${bytes[1]}`;
}

function attempt(email: string, password: string, ip: string) {
  return api<SessionResponse & ErrorBody>('POST', '/api/auth/login', { body: { email, password }, headers: { 'cf-connecting-ip': ip } });
}

async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
  return withClient(stack.database, async (client) => (await client.query(text, params)).rows as T[]);
}

describe('sign-in rate limiting', () => {
  test('an account locks after 5 failures, even for the right password, and the lock doubles', async () => {
    const { users } = await createTenant();
    const ip = freshIp();
    for (let i = 0; i < 5; i++) assert.equal((await attempt(users.bob.email, 'wrong password', ip)).status, 401);

    const locked = await attempt(users.bob.email, users.bob.password, ip);
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'rate_limited');
    const firstLock = Number(locked.headers.get('retry-after'));
    assert.ok(firstLock > 0 && firstLock <= 30, `first lock ${firstLock} s`);
    // Another account is not affected.
    assert.equal((await attempt(users.dave.email, users.dave.password, freshIp())).status, 200);

    // Let the lock run out, fail once more: the next lock is twice as long.
    await sql(`update login_throttle set locked_until = now() - interval '1 second' where key = $1`, [`account:${users.bob.email}`]);
    assert.equal((await attempt(users.bob.email, 'wrong again', ip)).status, 401);
    const second = await attempt(users.bob.email, users.bob.password, ip);
    assert.equal(second.status, 429);
    const secondLock = Number(second.headers.get('retry-after'));
    assert.ok(secondLock > 30 && secondLock <= 60, `second lock ${secondLock} s`);

    // Once unlocked, the right password works and forgives the account.
    await sql(`update login_throttle set locked_until = null where key = $1`, [`account:${users.bob.email}`]);
    assert.equal((await attempt(users.bob.email, users.bob.password, ip)).status, 200);
    assert.deepEqual(await sql('select key from login_throttle where key = $1', [`account:${users.bob.email}`]), []);
  });

  test('an IP spraying many accounts is locked for every account, others are not', async () => {
    const { users } = await createTenant();
    const ip = freshIp();
    // The limit per IP is 50 failures in 15 minutes (wrangler.toml); these spread over made-up accounts.
    for (let i = 0; i < 50; i++) {
      assert.equal((await attempt(`nobody-${i}-${ip}@spray.test`, 'guess', ip)).status, 401);
    }
    const blocked = await attempt(users.carol.email, users.carol.password, ip);
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.equal((await attempt(users.carol.email, users.carol.password, freshIp())).status, 200);
  });
});

describe('passwords', () => {
  test('a password change needs the current password, signs out other sessions and sends a notice', async () => {
    const { users } = await createTenant();
    const first = await login(users.bob);
    const second = await login(users.bob);

    const wrong = await api<ErrorBody>('PUT', '/api/me/password', { auth: first.accessToken, body: { currentPassword: 'nope', newPassword: NEW_PASSWORD } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'invalid_credentials');
    const weak = await api<ErrorBody>('PUT', '/api/me/password', {
      auth: first.accessToken,
      body: { currentPassword: users.bob.password, newPassword: 'short' },
    });
    assert.equal(weak.status, 400);
    assert.match(weak.body.error.message, /^newPassword: /);

    const changed = await api<SessionResponse>('PUT', '/api/me/password', {
      auth: first.accessToken,
      body: { currentPassword: users.bob.password, newPassword: NEW_PASSWORD },
    });
    assert.equal(changed.status, 200);
    for (const old of [first, second]) {
      assert.equal((await api('POST', '/api/auth/refresh', { body: { refreshToken: old.refreshToken } })).status, 401);
    }
    assert.equal((await api('POST', '/api/auth/refresh', { body: { refreshToken: changed.body.refreshToken } })).status, 200);
    assert.equal((await attempt(users.bob.email, users.bob.password, freshIp())).status, 401);
    assert.equal((await attempt(users.bob.email, NEW_PASSWORD, freshIp())).status, 200);

    const [notice] = await waitForMail(users.bob.email);
    assert.match(notice!.subject, /password was changed/);
    const audit = await sql<{ action: string }>('select action from audit_log where target_id = $1', [users.bob.id]);
    assert.ok(audit.some((row) => row.action === 'user.password_changed'));
  });

  test('a reset link is mailed, works once, signs out everywhere, and unknown emails learn nothing', async () => {
    const { users } = await createTenant();
    const session = await login(users.dave);
    const unknown = await api('POST', '/api/auth/password-reset', { body: { email: `nobody-${crypto.randomUUID()}@reset.test` } });
    assert.equal(unknown.status, 202);
    assert.equal((await api('POST', '/api/auth/password-reset', { body: { email: users.dave.email } })).status, 202);

    const [mail] = await waitForMail(users.dave.email);
    const token = /\/reset#([A-Za-z0-9_-]+)/.exec(mail!.text)?.[1];
    assert.ok(token, `no reset link in: ${mail!.text}`);

    const confirmed = await api('POST', '/api/auth/password-reset/confirm', { body: { token, newPassword: NEW_PASSWORD } });
    assert.equal(confirmed.status, 204);
    const again = await api<ErrorBody>('POST', '/api/auth/password-reset/confirm', { body: { token, newPassword: 'yet another passphrase' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');

    assert.equal((await api('POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })).status, 401);
    assert.equal((await attempt(users.dave.email, NEW_PASSWORD, freshIp())).status, 200);
    // The reset request and the change notice, nothing more.
    await waitForMail(users.dave.email, 2);
  });

  test('an expired reset token is refused, and requests are capped per account', async () => {
    const { users } = await createTenant();
    for (let i = 0; i < 5; i++) assert.equal((await api('POST', '/api/auth/password-reset', { body: { email: users.carol.email } })).status, 202);
    const mails = await waitForMail(users.carol.email, 3);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(sentMail(users.carol.email).length, 3, 'at most 3 reset mails per 15 minutes');

    await sql(`update password_resets set expires_at = now() - interval '1 second' where user_id = $1`, [users.carol.id]);
    const token = /\/reset#([A-Za-z0-9_-]+)/.exec(mails[0]!.text)![1];
    const expired = await api<ErrorBody>('POST', '/api/auth/password-reset/confirm', { body: { token, newPassword: NEW_PASSWORD } });
    assert.equal(expired.status, 409);
    assert.equal((await attempt(users.carol.email, users.carol.password, freshIp())).status, 200);
  });

  test('log out everywhere revokes every refresh token of the caller only', async () => {
    const { users } = await createTenant();
    const [phone, laptop, other] = await Promise.all([login(users.bob), login(users.bob), login(users.dave)]);
    const [bobDevice, bobWatcher, daveDevice] = await Promise.all([
      SignalingClient.connect(stack.url, laptop.accessToken, 'bob-laptop'),
      PresenceClient.connect(stack.url, laptop.accessToken, 'bob-laptop'),
      SignalingClient.connect(stack.url, other.accessToken, 'dave-desk'),
    ]);
    assert.equal((await api('POST', '/api/auth/logout-all')).status, 401);
    assert.equal((await api('POST', '/api/auth/logout-all', { auth: phone.accessToken })).status, 204);
    // Open sockets are closed at once with the do-not-reconnect code; other users keep theirs.
    assert.equal((await bobDevice.whenClosed()).code, 4003);
    assert.equal((await bobWatcher.whenClosed()).code, 4003);
    assert.equal(daveDevice.isOpen, true);
    await daveDevice.close();
    for (const session of [phone, laptop]) {
      assert.equal((await api('POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })).status, 401);
    }
    assert.equal((await api('POST', '/api/auth/refresh', { body: { refreshToken: other.refreshToken } })).status, 200);
  });
});

describe('SIP credentials', () => {
  const ha1Of = (credentials: RevealedSipCredentials) =>
    createHash('md5').update(`${credentials.username}:${credentials.realm}:${credentials.password}`).digest('hex');

  async function storedHa1(user: TestUser): Promise<string | undefined> {
    const [row] = await sql<{ ha1: string }>('select ha1 from sip_credentials where user_id = $1', [user.id]);
    return row?.ha1;
  }

  test('every new user has credentials; a rotation shows the password once and stores only HA1', async () => {
    const email = `sip-${crypto.randomUUID().slice(0, 8)}@signup.test`;
    const owner = await signUp({ organisation: 'SIP Co', displayName: 'Sam', email, password: NEW_PASSWORD });
    const auth = owner.accessToken;
    const view = await api<SipCredentialsView>('GET', '/api/me/sip-credentials', { auth });
    assert.equal(view.status, 200);
    assert.match(view.body.username, /^u[a-z2-9]{11}$/);
    assert.equal(view.body.realm, 'sip.callstack.local');
    assert.equal('password' in view.body, false);

    const rotated = await api<RevealedSipCredentials>('POST', '/api/me/sip-credentials', { auth });
    assert.equal(rotated.status, 201);
    assert.equal(rotated.body.username, view.body.username, 'the username stays');
    assert.ok(rotated.body.password.length >= 20);
    const [row] = await sql<{ ha1: string }>('select ha1 from sip_credentials where user_id = $1', [owner.user.id]);
    assert.equal(row!.ha1, ha1Of(rotated.body));
    const afterwards = await api<SipCredentialsView>('GET', '/api/me/sip-credentials', { auth });
    assert.equal('password' in afterwards.body, false);
  });

  test('an admin rotates a colleague’s credentials; users and other tenants cannot', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const [admin, bob, foreignAdmin] = await Promise.all([login(tenant.users.alice), login(tenant.users.bob), login(other.users.alice)]);
    const before = await storedHa1(tenant.users.dave);

    const byUser = await api<ErrorBody>('POST', `/api/admin/users/${tenant.users.dave.id}/sip-credentials`, { auth: bob.accessToken });
    assert.equal(byUser.status, 403);
    const byForeigner = await api<ErrorBody>('POST', `/api/admin/users/${tenant.users.dave.id}/sip-credentials`, { auth: foreignAdmin.accessToken });
    assert.equal(byForeigner.status, 404);
    assert.equal(await storedHa1(tenant.users.dave), before);

    const rotated = await api<RevealedSipCredentials>('POST', `/api/admin/users/${tenant.users.dave.id}/sip-credentials`, { auth: admin.accessToken });
    assert.equal(rotated.status, 201);
    assert.equal(await storedHa1(tenant.users.dave), ha1Of(rotated.body));
    const audit = await sql<{ actor_id: string }>(`select actor_id from audit_log where action = 'sip_credentials.rotated' and target_id = $1`, [
      tenant.users.dave.id,
    ]);
    assert.deepEqual(
      audit.map((row) => row.actor_id),
      [tenant.users.alice.id],
    );
  });
});
