/**
 * Access tokens: short-lived HS256 JWTs (jose) with a `kid` header so signing keys can rotate.
 * Refresh tokens are opaque random strings handled by db/sessions.ts.
 */
import { ErrorCode, type Role } from '@callstack/protocol';
import { errors, jwtVerify, SignJWT } from 'jose';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const ISSUER = 'callstack';
const AUDIENCE = 'callstack-api';

/** Who is calling, as proven by a valid access token (a user) or API key (`userId` is the key id). */
export interface Principal {
  actorType: 'user' | 'api_key';
  userId: string;
  tenantId: string;
  role: Role;
  displayName: string;
}

export async function issueAccessToken(env: Env, principal: Principal, now = Date.now()): Promise<string> {
  const issuedAt = Math.floor(now / 1000);
  return new SignJWT({ tid: principal.tenantId, role: principal.role, name: principal.displayName })
    .setProtectedHeader({ alg: 'HS256', kid: config(env).jwt.kid })
    .setSubject(principal.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ACCESS_TOKEN_TTL_SECONDS)
    .sign(encode(config(env).jwt.secret));
}

export async function verifyAccessToken(env: Env, token: string): Promise<Principal> {
  try {
    const { payload } = await jwtVerify(token, (header) => verificationKey(env, header.kid), { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    const { sub, tid, role, name } = payload;
    if (typeof sub !== 'string' || typeof tid !== 'string' || typeof name !== 'string' || !isRole(role)) {
      throw new ApiError(ErrorCode.unauthorized, 'malformed access token');
    }
    return { actorType: 'user', userId: sub, tenantId: tid, role, displayName: name };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof errors.JWTExpired) throw new ApiError(ErrorCode.tokenExpired, 'access token expired');
    throw new ApiError(ErrorCode.unauthorized, 'invalid access token');
  }
}

/**
 * Rotation: deploy a new JWT_SECRET with a new JWT_KID and move the old pair into
 * JWT_PREVIOUS_KEYS; tokens signed with it stay valid until they expire (15 minutes), then the
 * old pair can be dropped. An unknown `kid` is refused.
 */
function verificationKey(env: Env, kid: string | undefined): Uint8Array {
  const { jwt } = config(env);
  if (kid === jwt.kid) return encode(jwt.secret);
  const previous = jwt.previousKeys.find((key) => key.kid === kid);
  if (previous) return encode(previous.secret);
  throw new ApiError(ErrorCode.unauthorized, 'access token signed with an unknown key');
}

const encode = (secret: string) => new TextEncoder().encode(secret);

function isRole(value: unknown): value is Role {
  return value === 'admin' || value === 'operator' || value === 'user';
}
