/**
 * Data-protection rights: a user downloads everything held about them (JSON), and an account can
 * be erased by its owner (password again) or an admin. Call records stay for billing, anonymised;
 * voicemail messages go, files and all.
 */
import { ErrorCode, type EraseAccountRequest } from '@callstack/protocol';
import { verifyPassword } from '../auth/password.ts';
import { clientIp, signedInUser } from '../auth/authenticate.ts';
import type { Principal } from '../auth/tokens.ts';
import { recordAudit } from '../db/audit.ts';
import { listCallHistory } from '../db/callRecords.ts';
import { listRoomSessions } from '../db/roomSessions.ts';
import { withDb, withTransaction } from '../db/client.ts';
import { listContacts } from '../db/contacts.ts';
import { eraseUser, exportAuditTrail, exportProfile, exportSessions } from '../db/privacy.ts';
import { findSipCredentials } from '../db/sipCredentials.ts';
import { findActiveUser } from '../db/users.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { disconnectUser } from '../signaling/disconnectUser.ts';
import { findGreeting, listVoicemails } from '../db/voicemail.ts';
import { eraseMailbox } from '../voicemail/routes.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';

/** Calls (and room stays) beyond this many are not personal data worth a bigger export; billing keeps them all. */
const EXPORT_CALL_LIMIT = 10_000;

export const exportOwnData: Handler<'bearer'> = async ({ env, principal }) => {
  const { tenantId, userId } = signedInUser(principal);
  const data = await withDb(env, async (db) => {
    const profile = await exportProfile(db, tenantId, userId);
    if (!profile) throw new ApiError(ErrorCode.notFound, 'no such user');
    return {
      exportedAt: new Date().toISOString(),
      profile,
      sipCredentials: await findSipCredentials(db, tenantId, userId),
      contacts: await listContacts(db, tenantId, userId, {}),
      calls: await listCallHistory(db, tenantId, userId, EXPORT_CALL_LIMIT),
      roomSessions: await listRoomSessions(db, tenantId, userId, EXPORT_CALL_LIMIT),
      // The messages themselves are in the softphone (and `GET /api/voicemail/:id/audio`).
      voicemails: await listVoicemails(db, tenantId, userId),
      voicemailGreeting: await findGreeting(db, tenantId, userId).then(
        (greeting) => greeting && { contentType: greeting.contentType, updatedAt: greeting.updatedAt },
      ),
      sessions: await exportSessions(db, userId),
      auditTrail: await exportAuditTrail(db, tenantId, userId),
    };
  });
  return json(data, 200, { 'content-disposition': `attachment; filename="callstack-export-${userId}.json"` });
};

export const eraseOwnAccount: Handler<'bearer', EraseAccountRequest> = async ({ request, env, principal, body: { password } }) => {
  const { tenantId, userId } = signedInUser(principal);
  const user = await withDb(env, (db) => findActiveUser(db, tenantId, userId));
  if (!user || !(await verifyPassword(password, user.passwordHash))) throw new ApiError(ErrorCode.invalidCredentials, 'the password is wrong');
  await erase(request, env, principal, userId);
  return new Response(null, { status: 204 });
};

export const eraseUserByAdmin: Handler<'bearer'> = async ({ request, env, principal, params }) => {
  await erase(request, env, principal, params.id!);
  return new Response(null, { status: 204 });
};

async function erase(request: Request, env: Env, actor: Principal, userId: string): Promise<void> {
  await withTransaction(env, async (db) => {
    const result = await eraseUser(db, actor.tenantId, userId);
    if (result.outcome === 'not_found') throw new ApiError(ErrorCode.notFound, 'no such user');
    if (result.outcome === 'last_admin') throw new ApiError(ErrorCode.conflict, 'the organisation needs at least one admin');
    // Who erased is kept; for a self-erasure the actor is the (now anonymous) tombstone.
    await recordAudit(db, {
      tenantId: actor.tenantId,
      actorType: actor.actorType,
      actorId: actor.userId,
      action: 'user.erased',
      targetType: 'user',
      targetId: userId,
      ip: actor.userId === userId ? null : clientIp(request),
    });
  });
  await eraseMailbox(env, actor.tenantId, userId);
  await disconnectUser(env, actor.tenantId, userId, 'account erased', { accountGone: true });
}
