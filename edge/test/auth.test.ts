import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/auth/password.ts';
import { issueAccessToken, issueSocketTicket, verifyAccessToken, verifySocketTicket } from '../src/auth/tokens.ts';
import { turnCredentials } from '../src/turn.ts';

describe('socket tickets', () => {
  const principal = { actorType: 'user' as const, userId: 'u1', tenantId: 't1', role: 'user' as const, displayName: 'Ünïcode Üser' };

  it('carry the principal and an id of their own, last 30 seconds, and are no access token (nor the reverse)', async () => {
    const now = Date.now();
    const first = await issueSocketTicket(env, principal, now);
    const second = await issueSocketTicket(env, principal, now);
    expect(first.id).not.toBe(second.id);
    expect(first.expiresAt).toBe(now + 30_000);
    expect(await verifySocketTicket(env, first.ticket)).toEqual({ principal, id: first.id });
    await expect(verifyAccessToken(env, first.ticket)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(verifySocketTicket(env, await issueAccessToken(env, principal))).rejects.toMatchObject({ code: 'unauthorized' });
    const stale = await issueSocketTicket(env, principal, now - 31_000);
    await expect(verifySocketTicket(env, stale.ticket)).rejects.toMatchObject({ code: 'token_expired' });
  });
});

describe('passwords (PBKDF2-SHA256 in workerd)', () => {
  it('verifies the right password and rejects a wrong one, with a fresh salt each time', async () => {
    const first = await hashPassword('correct horse');
    const second = await hashPassword('correct horse');
    expect(first).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword('correct horse', first)).toBe(true);
    expect(await verifyPassword('correct horse!', first)).toBe(false);
    expect(await verifyPassword('correct horse', 'md5$whatever')).toBe(false);
  });
});

describe('access tokens', () => {
  const principal = { actorType: 'user' as const, userId: 'u1', tenantId: 't1', role: 'user' as const, displayName: 'Ünïcode Üser' };

  it('round-trips the principal and carries a kid', async () => {
    const token = await issueAccessToken(env, principal);
    const header = JSON.parse(atob(token.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')));
    expect(header).toMatchObject({ alg: 'HS256', kid: 'k1' });
    expect(await verifyAccessToken(env, token)).toEqual(principal);
  });

  it('rejects expired tokens as token_expired and tampered ones as unauthorized', async () => {
    const expired = await issueAccessToken(env, principal, Date.now() - 3_600_000);
    await expect(verifyAccessToken(env, expired)).rejects.toMatchObject({ code: 'token_expired' });
    const token = await issueAccessToken(env, principal);
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${payload!.slice(0, -2)}AA.${signature}`;
    await expect(verifyAccessToken(env, forged)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(verifyAccessToken({ ...env, JWT_SECRET: 'another-secret-another-secret' }, token)).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });
});

describe('signing key rotation by kid', () => {
  const principal = { actorType: 'user' as const, userId: 'u1', tenantId: 't1', role: 'admin' as const, displayName: 'Rota' };
  const before = { ...env, JWT_KID: 'k1', JWT_SECRET: 'old-secret-old-secret-old-secret' };
  const after = { ...env, JWT_KID: 'k2', JWT_SECRET: 'new-secret-new-secret-new-secret' };

  it('accepts tokens of a previous key listed in JWT_PREVIOUS_KEYS and signs new ones with the new kid', async () => {
    const oldToken = await issueAccessToken(before, principal);
    await expect(verifyAccessToken(after, oldToken)).rejects.toMatchObject({ code: 'unauthorized' });
    const rotated = { ...after, JWT_PREVIOUS_KEYS: `k1:${before.JWT_SECRET}` };
    expect(await verifyAccessToken(rotated, oldToken)).toEqual(principal);
    const newToken = await issueAccessToken(rotated, principal);
    expect(JSON.parse(atob(newToken.split('.')[0]!))).toMatchObject({ kid: 'k2' });
    expect(await verifyAccessToken(rotated, newToken)).toEqual(principal);
  });

  it('refuses a known kid paired with the wrong secret', async () => {
    const oldToken = await issueAccessToken(before, principal);
    const wrong = { ...after, JWT_PREVIOUS_KEYS: 'k1:not-the-old-secret-at-all-000' };
    await expect(verifyAccessToken(wrong, oldToken)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

describe('TURN REST credentials', () => {
  it('match coturn: username expiry:user, password base64 HMAC-SHA1 (vector from openssl)', async () => {
    // echo -n "1700003600:user-bob" | openssl dgst -sha1 -hmac turn-secret -binary | base64
    const credentials = await turnCredentials({ ...env, TURN_TTL_SECONDS: '3600' }, 'user-bob', 1_700_000_000_000);
    expect(credentials.username).toBe('1700003600:user-bob');
    expect(credentials.password).toBe('5A6zd22oQirBlr/pJg0xyllgZ1A=');
    expect(credentials.ttl).toBe(3600);
    expect(credentials.iceServers).toEqual([
      { urls: ['stun:stun.example.test:3478'] },
      {
        urls: ['turn:turn.example.test:3478?transport=udp', 'turns:turn.example.test:443?transport=tcp'],
        username: '1700003600:user-bob',
        credential: '5A6zd22oQirBlr/pJg0xyllgZ1A=',
      },
    ]);
  });

  it('offers no servers when TURN is not configured', async () => {
    const credentials = await turnCredentials({ ...env, TURN_SECRET: undefined }, 'u1');
    expect(credentials.iceServers).toEqual([]);
  });
});
