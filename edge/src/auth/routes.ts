import { ErrorCode, LoginRequest, RefreshRequest, type SessionResponse, type UserView } from '@callstack/protocol';
import { withDb, withTransaction, type Db } from '../db/client.ts';
import { issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from '../db/sessions.ts';
import { API_KEY_PREFIX, useApiKey } from '../db/apiKeys.ts';
import { recordAudit } from '../db/audit.ts';
import { findActiveUser, findActiveUserByEmail } from '../db/users.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { json, readJson } from '../http.ts';
import { log } from '../log.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password.ts';
import { LoginThrottle } from './throttle.ts';
import { authorize, type Permission } from './permissions.ts';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken, verifyAccessToken, type Principal } from './tokens.ts';

export async function login(request: Request, env: Env): Promise<Response> {
  const { email, password } = await readJson(request, LoginRequest);
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
        await recordAudit(db, { tenantId: user.tenantId, actorType: 'anonymous', actorId: null, action: 'auth.login_failed', targetType: 'user', targetId: user.id, ip: subject.ip });
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
}

export async function refresh(request: Request, env: Env): Promise<Response> {
  const { refreshToken } = await readJson(request, RefreshRequest);
  const session = await withTransaction(env, async (db) => {
    const rotation = await rotateRefreshToken(db, refreshToken);
    if (rotation.outcome !== 'rotated') return rotation;
    const user = await findActiveUser(db, rotation.tenantId, rotation.userId);
    return user ? { outcome: 'rotated' as const, user, token: rotation.token } : { outcome: 'invalid' as const };
  });
  if (session.outcome === 'reused') log.warn('auth.refresh_reuse', {});
  if (session.outcome !== 'rotated') throw new ApiError(ErrorCode.unauthorized, 'refresh token is not valid');
  return json(await sessionFor(env, session.user, session.token));
}

export async function logout(request: Request, env: Env): Promise<Response> {
  const { refreshToken } = await readJson(request, RefreshRequest);
  await withDb(env, (db: Db) => revokeRefreshToken(db, refreshToken));
  return new Response(null, { status: 204 });
}

/**
 * The principal behind `Authorization: Bearer <access token | API key>`, checked against the
 * route's permission. API key use is audited (at most once a minute per key).
 */
export async function authenticate(request: Request, env: Env, permission: Permission): Promise<Principal> {
  const header = request.headers.get('Authorization') ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  if (!match?.[1]) throw new ApiError(ErrorCode.unauthorized, 'missing bearer token');
  const credential = match[1];
  const principal = credential.startsWith(API_KEY_PREFIX)
    ? await authenticateApiKey(request, env, credential)
    : await verifyAccessToken(env, credential);
  authorize(principal, permission);
  return principal;
}

async function authenticateApiKey(request: Request, env: Env, key: string): Promise<Principal> {
  const owner = await withDb(env, async (db) => {
    const found = await useApiKey(db, key);
    if (found?.auditUse) {
      await recordAudit(db, {
        tenantId: found.tenantId,
        actorType: 'api_key',
        actorId: found.id,
        action: 'api_key.used',
        targetType: 'api_key',
        targetId: found.id,
        ip: clientIp(request),
        details: { path: new URL(request.url).pathname },
      });
    }
    return found;
  });
  if (!owner) throw new ApiError(ErrorCode.unauthorized, 'unknown or revoked API key');
  return { actorType: 'api_key', userId: owner.id, tenantId: owner.tenantId, role: owner.role, displayName: owner.name };
}

export function clientIp(request: Request): string | null {
  return request.headers.get('cf-connecting-ip');
}

export async function sessionFor(env: Env, user: UserView, refreshToken: string): Promise<SessionResponse> {
  const principal: Principal = { actorType: 'user', userId: user.id, tenantId: user.tenantId, role: user.role, displayName: user.displayName };
  return {
    accessToken: await issueAccessToken(env, principal),
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    user: { id: user.id, tenantId: user.tenantId, email: user.email, displayName: user.displayName, role: user.role },
  };
}
