/**
 * SIP credentials of users: generated with the account, readable (without secret) by their owner,
 * rotated by the owner or an admin, the new password shown exactly once.
 */
import { ErrorCode, type RevealedSipCredentials, type SipCredentialsView } from '@callstack/protocol';
import { clientIp, signedInUser } from '../auth/authenticate.ts';
import type { Principal } from '../auth/tokens.ts';
import { recordAudit } from '../db/audit.ts';
import { withDb, withTransaction, type Db } from '../db/client.ts';
import { findSipCredentials, saveSipCredentials } from '../db/sipCredentials.ts';
import { findActiveUser } from '../db/users.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';
import { newSipPassword, newSipUsername, sipHa1 } from './credentials.ts';

/** Gives the user a new SIP password (and a username on first use); returns it in the clear once. */
export async function provisionSipCredentials(db: Db, env: Env, owner: { tenantId: string; userId: string }): Promise<RevealedSipCredentials> {
  const existing = await findSipCredentials(db, owner.tenantId, owner.userId);
  const username = existing?.username ?? newSipUsername();
  const realm = config(env).sipRealm;
  const password = newSipPassword();
  const view = await saveSipCredentials(db, { ...owner, username, realm, ha1: await sipHa1(username, realm, password) });
  return { ...view, password };
}

export const ownSipCredentials: Handler<'bearer'> = async ({ env, principal }) => {
  const credentials = await withDb(env, (db) => findSipCredentials(db, principal.tenantId, principal.userId));
  if (!credentials) throw new ApiError(ErrorCode.notFound, 'no SIP credentials yet: generate them');
  return json(credentials satisfies SipCredentialsView);
};

export const rotateOwnSipCredentials: Handler<'bearer'> = ({ request, env, principal }) => rotate(request, env, principal, signedInUser(principal).userId);

export const rotateUserSipCredentials: Handler<'bearer'> = ({ request, env, principal, params }) => rotate(request, env, principal, params.id!);

async function rotate(request: Request, env: Env, actor: Principal, userId: string): Promise<Response> {
  const revealed = await withTransaction(env, async (db) => {
    if (!(await findActiveUser(db, actor.tenantId, userId))) throw new ApiError(ErrorCode.notFound, 'no such active user');
    const credentials = await provisionSipCredentials(db, env, { tenantId: actor.tenantId, userId });
    await recordAudit(db, {
      tenantId: actor.tenantId,
      actorType: actor.actorType,
      actorId: actor.userId,
      action: 'sip_credentials.rotated',
      targetType: 'user',
      targetId: userId,
      ip: clientIp(request),
      details: { username: credentials.username },
    });
    return credentials;
  });
  return json(revealed, 201);
}
