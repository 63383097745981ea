/** Sign-in and sessions: password sign-in (throttled), refresh-token rotation, sign-out. */
import { ErrorCode, type LoginRequest, type RefreshRequest, type SessionResponse, type UserView } from '@callstack/protocol';
import { recordAudit } from '../db/audit.ts';
import { withDb, withTransaction } from '../db/client.ts';
import { issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from '../db/sessions.ts';
import { findActiveUser, findActiveUserByEmail } from '../db/users.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import { log } from '../log.ts';
import type { Handler } from '../pipeline.ts';
import { clientIp } from './authenticate.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password.ts';
import { LoginThrottle } from './throttle.ts';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken, type Principal } from './tokens.ts';

export const login: Handler<'none', LoginRequest> = async ({ request, env, body: { email, password } }) => {
  const subject = { email, ip: clientIp(request) };
  const throttle = new LoginThrottle(env);
  const user = await withDb(env, async (db) => {
    await throttle.check(db, subject);
    return findActiveUserByEmail(db, email);
  });
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
    await throttle.succeeded(db, subject);
    return issueRefreshToken(db, { tenantId: user.tenantId, userId: user.id });
  });
  log.info('auth.login', { tenantId: user.tenantId, userId: user.id });
  return json(await sessionFor(env, user, refresh.token));
};

export const refresh: Handler<'refresh_token', RefreshRequest> = async ({ env, body: { refreshToken } }) => {
  const session = await withTransaction(env, async (db) => {
    const rotation = await rotateRefreshToken(db, refreshToken);
    if (rotation.outcome !== 'rotated') return rotation;
    const user = await findActiveUser(db, rotation.tenantId, rotation.userId);
    return user ? { outcome: 'rotated' as const, user, token: rotation.token } : { outcome: 'invalid' as const };
  });
  if (session.outcome === 'reused') log.warn('auth.refresh_reuse', {});
  if (session.outcome !== 'rotated') throw new ApiError(ErrorCode.unauthorized, 'refresh token is not valid');
  return json(await sessionFor(env, session.user, session.token));
};

export const logout: Handler<'refresh_token', RefreshRequest> = async ({ env, body: { refreshToken } }) => {
  await withDb(env, (db) => revokeRefreshToken(db, refreshToken));
  return new Response(null, { status: 204 });
};

export async function sessionFor(env: Env, user: UserView, refreshToken: string): Promise<SessionResponse> {
  const principal: Principal = { actorType: 'user', userId: user.id, tenantId: user.tenantId, role: user.role, displayName: user.displayName };
  return {
    accessToken: await issueAccessToken(env, principal),
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    user: { id: user.id, tenantId: user.tenantId, email: user.email, displayName: user.displayName, role: user.role },
  };
}
