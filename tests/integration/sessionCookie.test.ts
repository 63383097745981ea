/**
 * Browser sessions in the cookie: a sign-in asked for `session: "cookie"` sets the refresh token as
 * an HttpOnly, Secure, SameSite=Strict cookie scoped to /api/auth and leaves it out of the body;
 * refresh reads and rotates it (reuse still revokes the family), sign-out clears it, and API
 * clients keep getting the token in the body.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { SessionResponse } from '@callstack/protocol';
import { createTenant, type TestTenant } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

let tenant: TestTenant;
before(async () => {
  tenant = await createTenant();
});

async function post(path: string, body: unknown, cookie?: string) {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, setCookie: response.headers.get('set-cookie'), body: (text ? JSON.parse(text) : undefined) as Partial<SessionResponse> };
}

/** `callstack_refresh=<token>` from a Set-Cookie, for the next request's Cookie header. */
function cookieOf(setCookie: string | null): string {
  const pair = setCookie?.split(';')[0];
  assert.match(pair ?? '', /^callstack_refresh=.{16,}$/);
  return pair!;
}

describe('the session cookie', () => {
  test('sign-in sets it HttpOnly, Secure, SameSite=Strict on /api/auth only, and the body holds no refresh token', async () => {
    const { bob } = tenant.users;
    const answer = await post('/api/auth/login', { email: bob.email, password: bob.password, session: 'cookie' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.refreshToken, undefined);
    assert.ok(answer.body.accessToken);
    const attributes = answer.setCookie!.split(';').map((part) => part.trim().toLowerCase());
    for (const wanted of ['path=/api/auth', 'httponly', 'secure', 'samesite=strict'])
      assert.ok(attributes.includes(wanted), `${wanted} in ${answer.setCookie}`);
    assert.ok(
      attributes.some((part) => /^max-age=\d{6,}$/.test(part)),
      'lasts as long as the refresh token',
    );
  });

  test('refresh rotates the cookie; the spent one is refused, cleared, and revokes the family', async () => {
    const { carol } = tenant.users;
    const first = cookieOf((await post('/api/auth/login', { email: carol.email, password: carol.password, session: 'cookie' })).setCookie);
    const rotated = await post('/api/auth/refresh', {}, first);
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.refreshToken, undefined);
    assert.equal(rotated.body.user?.id, carol.id);
    const second = cookieOf(rotated.setCookie);
    assert.notEqual(second, first);

    const reused = await post('/api/auth/refresh', {}, first);
    assert.equal(reused.status, 401);
    assert.match(reused.setCookie ?? '', /^callstack_refresh=;.*Max-Age=0/);
    assert.equal((await post('/api/auth/refresh', {}, second)).status, 401, 'reuse revoked the whole family');
  });

  test('sign-out revokes and clears it; no cookie and no body token is a 401', async () => {
    const { dave } = tenant.users;
    const cookie = cookieOf((await post('/api/auth/login', { email: dave.email, password: dave.password, session: 'cookie' })).setCookie);
    const out = await post('/api/auth/logout', {}, cookie);
    assert.equal(out.status, 204);
    assert.match(out.setCookie ?? '', /^callstack_refresh=;.*Max-Age=0/);
    assert.equal((await post('/api/auth/refresh', {}, cookie)).status, 401);
    const none = await post('/api/auth/refresh', {});
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, { error: { code: 'unauthorized', message: 'no refresh token: sign in again' } });
  });

  test('API clients keep the token in the body and get no cookie', async () => {
    const { alice } = tenant.users;
    const answer = await post('/api/auth/login', { email: alice.email, password: alice.password });
    assert.equal(answer.status, 200);
    assert.equal(answer.setCookie, null);
    const refreshed = await post('/api/auth/refresh', { refreshToken: answer.body.refreshToken });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.setCookie, null);
    assert.ok(refreshed.body.refreshToken);
  });

  test('a cross-site page cannot use it: the refresh route answers no CORS grant', async () => {
    const { alice } = tenant.users;
    const cookie = cookieOf((await post('/api/auth/login', { email: alice.email, password: alice.password, session: 'cookie' })).setCookie);
    const response = await fetch(`${stack.url}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example', cookie },
      body: '{}',
    });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(response.headers.get('access-control-allow-credentials'), null);
  });
});
