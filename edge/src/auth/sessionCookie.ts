/**
 * The browser's session cookie: the refresh token, `HttpOnly` so no script on the page reads it,
 * `SameSite=Strict` so no other site's page sends it, and scoped to `/api/auth` so no other route
 * ever sees it. The access token it buys lives only in the page's memory.
 */
import type { SessionDelivery, SessionResponse, UserView } from '@callstack/protocol';
import { REFRESH_TOKEN_TTL_DAYS } from '../db/sessions.ts';
import type { Env } from '../env.ts';
import { json } from '../http.ts';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken, type Principal } from './tokens.ts';

export const REFRESH_COOKIE = 'callstack_refresh';
const ATTRIBUTES = 'Path=/api/auth; HttpOnly; Secure; SameSite=Strict';

export function refreshCookie(token: string): string {
  return `${REFRESH_COOKIE}=${token}; ${ATTRIBUTES}; Max-Age=${REFRESH_TOKEN_TTL_DAYS * 24 * 60 * 60}`;
}

export function clearedRefreshCookie(): string {
  return `${REFRESH_COOKIE}=; ${ATTRIBUTES}; Max-Age=0`;
}

/** The refresh token the browser sent in its cookie, if any. */
export function refreshTokenFromCookie(request: Request): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === REFRESH_COOKIE && value.length > 0) return value.join('=') || undefined;
  }
  return undefined;
}

/** A new access token for `user`, with the refresh token delivered the way the client asked. */
export async function sessionAnswer(env: Env, user: UserView, refreshToken: string, delivery: SessionDelivery, status = 200): Promise<Response> {
  const principal: Principal = { actorType: 'user', userId: user.id, tenantId: user.tenantId, role: user.role, displayName: user.displayName };
  const body: SessionResponse = {
    accessToken: await issueAccessToken(env, principal),
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    ...(delivery === 'token' ? { refreshToken } : {}),
    user: { id: user.id, tenantId: user.tenantId, email: user.email, displayName: user.displayName, role: user.role },
  };
  const response = json(body, status);
  if (delivery === 'cookie') response.headers.append('set-cookie', refreshCookie(refreshToken));
  return response;
}
