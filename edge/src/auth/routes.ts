/**
 * Sign-in and sessions: password sign-in (throttled), refresh-token rotation, sign-out. A refresh
 * token comes in the body or the session cookie (sessionCookie.ts) and its successor goes back the
 * same way.
 */
import { ErrorCode, type LoginRequest, type RefreshRequest, type SessionDelivery } from '@callstack/protocol';
import { recordAudit } from '../db/audit.ts';
import { withDb, withTransaction } from '../db/client.ts';
import { issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from '../db/sessions.ts';
import { findActiveUser, findActiveUserByEmail } from '../db/users.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import { log } from '../log.ts';
import type { Handler } from '../pipeline.ts';
import { clientIp } from './authenticate.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password.ts';
import { LoginThrottle } from './throttle.ts';
import { clearedRefreshCookie, refreshTokenFromCookie, sessionAnswer } from './sessionCookie.ts';

export const login: Handler<'none', LoginRequest> = async ({ request, env, body: { email, password, session } }) => {
  const subject = { email, ip: clientIp(request) };
  const throttle = new LoginThrottle(env);
  // Independent statements go out together: one round trip of latency for the two.
  const user = await withDb(env, async (db) => (await Promise.all([throttle.check(db, subject), findActiveUserByEmail(db, email)]))[1]);
  // Same work whether or not the account exists, so timing does not reveal accounts.
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !valid) {
    log.info('auth.login_failed', { email, ip: subject.ip });
    await withDb(env, async (db) => {
      await throttle.failed(db, subject);
      if (user) {
        await recordAudit(db, {
          tenantId: user.tenantId,
          actorType: 'anonymous',
          actorId: null,
          action: 'auth.login_failed',
          targetType: 'user',
          targetId: user.id,
          ip: subject.ip,
        });
      }
    });
    throw new ApiError(ErrorCode.invalidCredentials, 'wrong email or password');
  }
  const refresh = await withDb(env, async (db) => {
    const [, issued] = await Promise.all([throttle.succeeded(db, subject), issueRefreshToken(db, { tenantId: user.tenantId, userId: user.id })]);
    return issued;
  });
  log.info('auth.login', { tenantId: user.tenantId, userId: user.id });
  return sessionAnswer(env, user, refresh.token, session);
};

/** The refresh token and the way its successor goes back: the body's, else the cookie's. */
function presentedToken(request: Request, body: RefreshRequest): { token: string; delivery: SessionDelivery } {
  if (body.refreshToken !== undefined) return { token: body.refreshToken, delivery: 'token' };
  const token = refreshTokenFromCookie(request);
  if (token === undefined) throw new ApiError(ErrorCode.unauthorized, 'no refresh token: sign in again');
  return { token, delivery: 'cookie' };
}

export const refresh: Handler<'refresh_token', RefreshRequest> = async ({ request, env, body }) => {
  const { token: refreshToken, delivery } = presentedToken(request, body);
  const session = await withTransaction(env, async (db) => {
    const rotation = await rotateRefreshToken(db, refreshToken);
    if (rotation.outcome !== 'rotated') return rotation;
    const user = await findActiveUser(db, rotation.tenantId, rotation.userId);
    return user ? { outcome: 'rotated' as const, user, token: rotation.token } : { outcome: 'invalid' as const };
  });
  if (session.outcome === 'reused') log.warn('auth.refresh_reuse', {});
  if (session.outcome !== 'rotated') {
    const refused = new ApiError(ErrorCode.unauthorized, 'refresh token is not valid');
    // A dead cookie is dropped, so the browser stops presenting it.
    if (delivery === 'cookie') return json(refused.toBody(), refused.status, { 'set-cookie': clearedRefreshCookie() });
    throw refused;
  }
  return sessionAnswer(env, session.user, session.token, delivery);
};

/** Revokes the sign-in and, for a browser, forgets its cookie; signed out already is fine too. */
export const logout: Handler<'refresh_token', RefreshRequest> = async ({ request, env, body }) => {
  const refreshToken = body.refreshToken ?? refreshTokenFromCookie(request);
  if (refreshToken !== undefined) await withDb(env, (db) => revokeRefreshToken(db, refreshToken));
  return new Response(null, { status: 204, headers: { 'set-cookie': clearedRefreshCookie() } });
};
