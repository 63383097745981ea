/**
 * Organisations running themselves: sign-up, invites, roles, deactivation, API keys and the
 * audit log. Every query is scoped by the caller's tenant, so another tenant's ids are simply
 * not found (404), and every change is audited with actor, target and IP.
 */
import {
  ErrorCode,
  type AcceptInviteRequest,
  ChangeRoleRequest,
  CreateApiKeyRequest,
  type CreateInviteRequest,
  type SignupConfirmRequest,
  type SignupRequest,
  type SignupStarted,
  type AdminUsersResponse,
  type CreatedApiKey,
  type InviteResponse,
  type UserView,
} from '@callstack/protocol';
import { sha256Hex } from '../auth/encoding.ts';
import { hashPassword } from '../auth/password.ts';
import { LoginThrottle } from '../auth/throttle.ts';
import { config } from '../config.ts';
import { enqueueMail } from '../db/outbox.ts';
import { claimSignupRequest, createSignupRequest, SIGNUP_TTL_HOURS } from '../db/signupRequests.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import { clientIp, signedInUser } from '../auth/authenticate.ts';
import { sessionAnswer } from '../auth/sessionCookie.ts';
import type { Principal } from '../auth/tokens.ts';
import { withDb, withTransaction, type Db } from '../db/client.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../db/apiKeys.ts';
import { listAudit, recordAudit, type AuditEvent } from '../db/audit.ts';
import { claimInvite, createInvite } from '../db/invites.ts';
import { issueRefreshToken } from '../db/sessions.ts';
import { createTenant, createUser, type NewUser } from '../db/tenants.ts';
import { changeRole, deactivateUser, emailTaken, listAllUsers } from '../db/users.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { disconnectUser } from '../signaling/disconnectUser.ts';
import { provisionSipCredentials } from '../sip/routes.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';
import type * as v from 'valibot';

/**
 * Sign-up proves the address first: the same 202 whether or not it has an account, and the mail
 * says which (a link that creates the organisation, or "you have an account already"). Throttled
 * per address and per IP like sign-in, every attempt counting, which also caps mail to one inbox.
 */
export const signup: Handler<'none', SignupRequest> = async ({ request, env, ctx, body }) => {
  const subject = { email: body.email, ip: clientIp(request) };
  const throttle = new LoginThrottle(env, 'signup');
  await withDb(env, (db) => throttle.check(db, subject));
  // Hashed either way, so the time taken says nothing either.
  const passwordHash = await hashPassword(body.password);
  await withTransaction(env, async (db) => {
    await throttle.failed(db, subject);
    const base = config(env).publicUrl ?? request.url;
    if (await emailTaken(db, body.email)) {
      await enqueueMail(db, {
        tenantId: null,
        to: body.email,
        subject: 'Your CallStack sign-up',
        text: `Hello,\n\nsomeone (perhaps you) asked to create the organisation “${body.organisation}” on CallStack with this address, which has an account already, so nothing was created.\n\nSign in at ${new URL('/', base).toString()}, or choose a new password at ${new URL('/forgot-password', base).toString()} if you forgot it.\n`,
      });
      return;
    }
    const token = await createSignupRequest(db, { email: body.email, organisation: body.organisation, displayName: body.displayName, passwordHash });
    await enqueueMail(db, {
      tenantId: null,
      to: body.email,
      subject: 'Confirm your CallStack sign-up',
      text: `Hello ${body.displayName},\n\nopen this link within ${SIGNUP_TTL_HOURS} hours to create “${body.organisation}” on CallStack and sign in:\n\n${new URL(`/signup#${token}`, base).toString()}\n\nIf you did not ask for this, ignore this mail; nothing is created.\n`,
    });
  });
  ctx.waitUntil(deliverSoon(env));
  return json({ email: body.email } satisfies SignupStarted, 202);
};

/** The mailed link: creates the organisation and its first admin, and signs them in. */
export const confirmSignup: Handler<'none', SignupConfirmRequest> = async ({ request, env, body }) => {
  const session = await withTransaction(env, async (db) => {
    const pending = await claimSignupRequest(db, body.token);
    if (!pending) throw new ApiError(ErrorCode.invalidState, 'this sign-up link is invalid, used or expired; sign up again');
    const tenant = await createTenant(db, pending.organisation);
    return register(
      db,
      env,
      request,
      { tenantId: tenant.id, email: pending.email, displayName: pending.displayName, role: 'admin', passwordHash: pending.passwordHash },
      (userId) => ({ action: 'tenant.created', targetType: 'tenant', targetId: tenant.id, actorId: userId }),
    );
  });
  return sessionAnswer(env, session.user, session.refreshToken, body.session, 201);
};

export const inviteUser: Handler<'bearer', CreateInviteRequest> = async ({ request, env, principal: actor, body }) => {
  const invite = await withTransaction(env, async (db) => {
    const created = await createInvite(db, { tenantId: actor.tenantId, email: body.email, role: body.role, invitedBy: signedInUser(actor).userId });
    await audit(db, request, actor, { action: 'invite.created', targetType: 'invite', targetId: created.id, details: { email: body.email, role: body.role } });
    return created;
  });
  const url = new URL(`/invite#${invite.token}`, request.url).toString();
  return json(
    { id: invite.id, email: body.email, role: body.role, expiresAt: invite.expiresAt.toISOString(), token: invite.token, url } satisfies InviteResponse,
    201,
  );
};

/** Throttled per IP (and per invite) like sign-in: each try guesses a token or makes an account. */
export const acceptInvite: Handler<'none', AcceptInviteRequest> = async ({ request, env, body }) => {
  const subject = { email: `invite:${await sha256Hex(body.token)}`, ip: clientIp(request) };
  const throttle = new LoginThrottle(env, 'invite');
  await withDb(env, (db) => throttle.check(db, subject));
  const passwordHash = await hashPassword(body.password);
  const session = await withTransaction(env, async (db) => {
    await throttle.failed(db, subject);
    const claim = await claimInvite(db, body.token);
    if (claim.outcome === 'unknown') throw new ApiError(ErrorCode.notFound, 'this invite does not exist');
    if (claim.outcome !== 'claimed')
      throw new ApiError(ErrorCode.invalidState, `this invite has ${claim.outcome === 'used' ? 'already been used' : 'expired'}`);
    return register(
      db,
      env,
      request,
      { tenantId: claim.tenantId, email: claim.email, displayName: body.displayName, role: claim.role, passwordHash },
      (userId) => ({
        action: 'invite.accepted',
        targetType: 'invite',
        targetId: claim.id,
        actorId: userId,
      }),
    );
  });
  return sessionAnswer(env, session.user, session.refreshToken, body.session, 201);
};

export const adminUsers: Handler<'bearer'> = async ({ env, principal: actor }) => {
  const users = await withDb(env, (db) => listAllUsers(db, actor.tenantId));
  return json({ users } satisfies AdminUsersResponse);
};

export const setRole: Handler<'bearer', v.InferOutput<typeof ChangeRoleRequest>> = async ({ request, env, principal: actor, body: { role }, params }) => {
  const userId = params.id!;
  await withTransaction(env, async (db) => {
    const change = await changeRole(db, actor.tenantId, userId, role);
    if (change.outcome === 'not_found') throw new ApiError(ErrorCode.notFound, 'no such user');
    if (change.outcome === 'last_admin') throw new ApiError(ErrorCode.conflict, 'the organisation needs at least one admin');
    await audit(db, request, actor, { action: 'user.role_changed', targetType: 'user', targetId: userId, details: { from: change.previous, to: role } });
  });
  return new Response(null, { status: 204 });
};

export const deactivate: Handler<'bearer'> = async ({ request, env, principal: actor, params }) => {
  const userId = params.id!;
  await withTransaction(env, async (db) => {
    const result = await deactivateUser(db, actor.tenantId, userId);
    if (result.outcome === 'not_found') throw new ApiError(ErrorCode.notFound, 'no such active user');
    if (result.outcome === 'last_admin') throw new ApiError(ErrorCode.conflict, 'the organisation needs at least one admin');
    await audit(db, request, actor, { action: 'user.deactivated', targetType: 'user', targetId: userId });
  });
  await disconnectUser(env, actor.tenantId, userId, 'account deactivated', { accountGone: true });
  return new Response(null, { status: 204 });
};

export const createKey: Handler<'bearer', v.InferOutput<typeof CreateApiKeyRequest>> = async ({ request, env, principal: actor, body }) => {
  const created = await withTransaction(env, async (db) => {
    const key = await createApiKey(db, { tenantId: actor.tenantId, name: body.name, role: body.role, createdBy: signedInUser(actor).userId });
    await audit(db, request, actor, { action: 'api_key.created', targetType: 'api_key', targetId: key.view.id, details: { name: body.name, role: body.role } });
    return key;
  });
  return json({ ...created.view, key: created.key } satisfies CreatedApiKey, 201);
};

export const listKeys: Handler<'bearer'> = async ({ env, principal: actor }) => json({ keys: await withDb(env, (db) => listApiKeys(db, actor.tenantId)) });

export const revokeKey: Handler<'bearer'> = async ({ request, env, principal: actor, params }) => {
  const keyId = params.id!;
  await withTransaction(env, async (db) => {
    if (!(await revokeApiKey(db, actor.tenantId, keyId))) throw new ApiError(ErrorCode.notFound, 'no such API key');
    await audit(db, request, actor, { action: 'api_key.revoked', targetType: 'api_key', targetId: keyId });
  });
  return new Response(null, { status: 204 });
};

export const auditLog: Handler<'bearer', undefined, AuditQuery> = async ({ env, principal: actor, query }) => {
  const entries = await withDb(env, (db) =>
    listAudit(db, actor.tenantId, { action: query.action, actorId: query.actor, targetId: query.target, before: query.before, limit: query.limit }),
  );
  return json({ entries });
};

export interface AuditQuery {
  action: string | undefined;
  actor: string | undefined;
  target: string | undefined;
  before: string | undefined;
  limit: number;
}

/**
 * Creates a user who signs in at once (sign-up, accepted invite): the user, the audit entry that
 * says why, SIP credentials (the password is revealed by a rotation), and the first refresh
 * token, all in the caller's transaction.
 */
async function register(
  db: Db,
  env: Env,
  request: Request,
  user: NewUser,
  auditOf: (userId: string) => Pick<AuditEvent, 'action' | 'targetType' | 'targetId' | 'actorId'>,
): Promise<{ user: UserView; refreshToken: string }> {
  const userId = await createUser(db, user);
  if (!userId) throw new ApiError(ErrorCode.conflict, 'an account with this email already exists');
  await recordAudit(db, { ...auditOf(userId), tenantId: user.tenantId, actorType: 'user', ip: clientIp(request) });
  await provisionSipCredentials(db, env, { tenantId: user.tenantId, userId });
  const refresh = await issueRefreshToken(db, { tenantId: user.tenantId, userId });
  return {
    user: { id: userId, tenantId: user.tenantId, email: user.email, displayName: user.displayName, role: user.role },
    refreshToken: refresh.token,
  };
}

function audit(db: Db, request: Request, actor: Principal, event: Omit<AuditEvent, 'tenantId' | 'actorType' | 'actorId' | 'ip'>) {
  return recordAudit(db, { ...event, tenantId: actor.tenantId, actorType: actor.actorType, actorId: actor.userId, ip: clientIp(request) });
}
