/**
 * Who is calling a bearer route: an access token or an API key in `Authorization: Bearer`, checked
 * against the route's permission (the pipeline calls this; handlers receive the principal).
 */
import { ErrorCode } from '@callstack/protocol';
import { API_KEY_PREFIX, useApiKey } from '../db/apiKeys.ts';
import { recordAudit } from '../db/audit.ts';
import { withDb } from '../db/client.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { authorize, type Permission } from './permissions.ts';
import { verifyAccessToken, type Principal } from './tokens.ts';

/** API key use is audited (at most once a minute per key). */
export async function authenticate(request: Request, env: Env, permission: Permission): Promise<Principal> {
  const header = request.headers.get('Authorization') ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  if (!match?.[1]) throw new ApiError(ErrorCode.unauthorized, 'missing bearer token');
  const credential = match[1];
  const principal = credential.startsWith(API_KEY_PREFIX) ? await authenticateApiKey(request, env, credential) : await verifyAccessToken(env, credential);
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

/** Address books, passwords and SIP credentials belong to people; an API key has none. */
export function signedInUser(principal: Principal, what = 'this action needs a signed-in user'): Principal & { actorType: 'user' } {
  if (principal.actorType !== 'user') throw new ApiError(ErrorCode.forbidden, what);
  return principal as Principal & { actorType: 'user' };
}
