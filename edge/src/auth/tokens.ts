/**
 * Access tokens: short-lived HS256 JWTs (jose) with a `kid` header so signing keys can rotate.
 * Socket tickets: the same, for another audience, valid for seconds and spent once (the user's
 * hub keeps the spent ids), so what a WebSocket URL carries into logs is worthless by then.
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
const TICKET_AUDIENCE = 'callstack-socket';
export const SOCKET_TICKET_TTL_SECONDS = 30;

/** Who is calling, as proven by a valid access token (a user) or API key (`userId` is the key id). */
export interface Principal {
  actorType: 'user' | 'api_key';
  userId: string;
  tenantId: string;
  role: Role;
  displayName: string;
}

export function issueAccessToken(env: Env, principal: Principal, now = Date.now()): Promise<string> {
  return sign(env, principal, AUDIENCE, ACCESS_TOKEN_TTL_SECONDS, now);
}

export async function verifyAccessToken(env: Env, token: string): Promise<Principal> {
  return (await verify(env, token, AUDIENCE, 'access token')).principal;
}

export interface SocketTicket {
  ticket: string;
  /** Spent-ticket records keep this id until the ticket has expired. */
  id: string;
  expiresAt: number;
}

export async function issueSocketTicket(env: Env, principal: Principal, now = Date.now()): Promise<SocketTicket> {
  const id = crypto.randomUUID();
  return { ticket: await sign(env, principal, TICKET_AUDIENCE, SOCKET_TICKET_TTL_SECONDS, now, id), id, expiresAt: now + SOCKET_TICKET_TTL_SECONDS * 1000 };
}

/** A valid, unexpired ticket's holder and id; whether it was spent already is the hub's to say. */
/** The answer to a socket ticket presented a second time. */
export const ticketSpent = (): ApiError => new ApiError(ErrorCode.unauthorized, 'this socket ticket was used already');

export async function verifySocketTicket(env: Env, ticket: string): Promise<{ principal: Principal; id: string }> {
  const { principal, jti } = await verify(env, ticket, TICKET_AUDIENCE, 'socket ticket');
  if (jti === undefined) throw new ApiError(ErrorCode.unauthorized, 'malformed socket ticket');
  return { principal, id: jti };
}

async function sign(env: Env, principal: Principal, audience: string, ttlSeconds: number, now: number, jti?: string): Promise<string> {
  const issuedAt = Math.floor(now / 1000);
  const jwt = new SignJWT({ tid: principal.tenantId, role: principal.role, name: principal.displayName })
    .setProtectedHeader({ alg: 'HS256', kid: config(env).jwt.kid })
    .setSubject(principal.userId)
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds);
  return (jti === undefined ? jwt : jwt.setJti(jti)).sign(await hmacKey(config(env).jwt.secret));
}

async function verify(env: Env, token: string, audience: string, what: string): Promise<{ principal: Principal; jti: string | undefined }> {
  try {
    const { payload } = await jwtVerify(token, (header) => verificationKey(env, header.kid), { issuer: ISSUER, audience, algorithms: ['HS256'] });
    const { sub, tid, role, name, jti } = payload;
    if (typeof sub !== 'string' || typeof tid !== 'string' || typeof name !== 'string' || !isRole(role)) {
      throw new ApiError(ErrorCode.unauthorized, `malformed ${what}`);
    }
    return { principal: { actorType: 'user', userId: sub, tenantId: tid, role, displayName: name }, jti };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof errors.JWTExpired) throw new ApiError(ErrorCode.tokenExpired, `${what} expired`);
    throw new ApiError(ErrorCode.unauthorized, `invalid ${what}`);
  }
}

/**
 * Rotation: deploy a new JWT_SECRET with a new JWT_KID and move the old pair into
 * JWT_PREVIOUS_KEYS; tokens signed with it stay valid until they expire (15 minutes), then the
 * old pair can be dropped. An unknown `kid` is refused.
 */
function verificationKey(env: Env, kid: string | undefined): Promise<CryptoKey> {
  const { jwt } = config(env);
  if (kid === jwt.kid) return hmacKey(jwt.secret);
  const previous = jwt.previousKeys.find((key) => key.kid === kid);
  if (previous) return hmacKey(previous.secret);
  throw new ApiError(ErrorCode.unauthorized, 'access token signed with an unknown key');
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

/** Imported once per secret and isolate (a key is no I/O object, so requests may share it), not on every token. */
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    hmacKeys.set(secret, key);
  }
  return key;
}

function isRole(value: unknown): value is Role {
  return value === 'admin' || value === 'operator' || value === 'user';
}
