/**
 * A signed-in user's own credentials: password change, reset by emailed link, and signing out
 * everywhere. Each change revokes every refresh token of the user, is audited, and (for the
 * password) tells the user by mail, so a stolen session cannot quietly outlive it.
 */
import { ErrorCode, type ChangePasswordRequest, type PasswordResetConfirmRequest, type PasswordResetRequest } from '@callstack/protocol';
import { withDb, withTransaction, type Db } from '../db/client.ts';
import { recordAudit } from '../db/audit.ts';
import { enqueueMail } from '../db/outbox.ts';
import { claimPasswordReset, createPasswordReset, recentResetCount, RESET_TTL_MINUTES } from '../db/passwordResets.ts';
import { issueRefreshToken, revokeAllRefreshTokens } from '../db/sessions.ts';
import { findActiveUser, findActiveUserByEmail, setPasswordHash, type UserRow } from '../db/users.ts';
import { config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import { disconnectUser } from '../signaling/disconnectUser.ts';
import { hashPassword, verifyPassword } from './password.ts';
import type { Handler } from '../pipeline.ts';
import { clientIp, signedInUser } from './authenticate.ts';
import { clearedRefreshCookie, sessionAnswer } from './sessionCookie.ts';
import type { Principal } from './tokens.ts';
import { LoginThrottle } from './throttle.ts';

/** At most this many reset mails per account per window, however often someone asks. */
const MAX_RESETS_PER_WINDOW = 3;
const RESET_WINDOW_MINUTES = 15;

/** Changes the password after checking the current one; the calling device gets a fresh session. */
export const changePassword: Handler<'bearer', ChangePasswordRequest> = async ({ request, env, ctx, principal, body }) => {
  const user = await withDb(env, (db) => ownUser(db, principal));
  const subject = { email: user.email, ip: clientIp(request) };
  const throttle = new LoginThrottle(env);
  await withDb(env, (db) => throttle.check(db, subject));
  if (!(await verifyPassword(body.currentPassword, user.passwordHash))) {
    await withDb(env, (db) => throttle.failed(db, subject));
    throw new ApiError(ErrorCode.invalidCredentials, 'the current password is wrong');
  }
  const passwordHash = await hashPassword(body.newPassword);
  const refresh = await withTransaction(env, async (db) => {
    await replacePassword(db, user, passwordHash, request, 'user.password_changed');
    return issueRefreshToken(db, { tenantId: user.tenantId, userId: user.id });
  });
  ctx.waitUntil(deliverSoon(env));
  return sessionAnswer(env, user, refresh.token, body.session);
};

/** Always 202: whether the account exists is not revealed. */
export const requestPasswordReset: Handler<'none', PasswordResetRequest> = async ({ request, env, ctx, body: { email } }) => {
  const queued = await withTransaction(env, async (db) => {
    const user = await findActiveUserByEmail(db, email);
    if (!user || (await recentResetCount(db, user.id, RESET_WINDOW_MINUTES)) >= MAX_RESETS_PER_WINDOW) return false;
    const token = await createPasswordReset(db, { tenantId: user.tenantId, userId: user.id });
    const link = new URL(`/reset#${token}`, config(env).publicUrl ?? request.url).toString();
    await enqueueMail(db, {
      tenantId: user.tenantId,
      to: user.email,
      subject: 'Reset your CallStack password',
      text: `Hello ${user.displayName},\n\nopen this link within ${RESET_TTL_MINUTES} minutes to choose a new password:\n\n${link}\n\nIf you did not ask for this, ignore this mail; your password stays as it is.\n`,
    });
    await recordAudit(db, {
      tenantId: user.tenantId,
      actorType: 'anonymous',
      actorId: null,
      action: 'auth.password_reset_requested',
      targetType: 'user',
      targetId: user.id,
      ip: clientIp(request),
    });
    return true;
  });
  if (queued) ctx.waitUntil(deliverSoon(env));
  return new Response(null, { status: 202 });
};

/** Sets a new password with a mailed token; the token works once and signs out every device. */
export const confirmPasswordReset: Handler<'none', PasswordResetConfirmRequest> = async ({ request, env, ctx, body }) => {
  const passwordHash = await hashPassword(body.newPassword);
  const reset = await withTransaction(env, async (db) => {
    const claim = await claimPasswordReset(db, body.token);
    const user = claim.outcome === 'claimed' ? await findActiveUser(db, claim.tenantId, claim.userId) : null;
    if (!user) throw new ApiError(ErrorCode.invalidState, 'this reset link is invalid, used or expired; ask for a new one');
    await replacePassword(db, user, passwordHash, request, 'user.password_reset');
    // The owner proved control of the mailbox: a lock from someone guessing ends here.
    await new LoginThrottle(env).succeeded(db, { email: user.email, ip: null });
    return user;
  });
  // Whoever held a session before the reset loses its open sockets now, not when its token lapses.
  await disconnectUser(env, reset.tenantId, reset.id, 'password reset');
  ctx.waitUntil(deliverSoon(env));
  return new Response(null, { status: 204 });
};

/** Revokes every refresh token of the caller; access tokens lapse within their 15 minutes. */
export const logoutEverywhere: Handler<'bearer'> = async ({ request, env, principal }) => {
  await withTransaction(env, async (db) => {
    const user = await ownUser(db, principal);
    const revoked = await revokeAllRefreshTokens(db, user.id);
    await recordAudit(db, {
      tenantId: user.tenantId,
      actorType: 'user',
      actorId: user.id,
      action: 'auth.logout_all',
      targetType: 'user',
      targetId: user.id,
      ip: clientIp(request),
      details: { revoked },
    });
  });
  await disconnectUser(env, principal.tenantId, principal.userId, 'signed out everywhere');
  return new Response(null, { status: 204, headers: { 'set-cookie': clearedRefreshCookie() } });
};

async function ownUser(db: Db, principal: Principal): Promise<UserRow> {
  const { tenantId, userId } = signedInUser(principal);
  const user = await findActiveUser(db, tenantId, userId);
  if (!user) throw new ApiError(ErrorCode.unauthorized, 'this account is no longer active');
  return user;
}

async function replacePassword(db: Db, user: UserRow, passwordHash: string, request: Request, action: string): Promise<void> {
  await setPasswordHash(db, user.tenantId, user.id, passwordHash);
  const revoked = await revokeAllRefreshTokens(db, user.id);
  await recordAudit(db, {
    tenantId: user.tenantId,
    actorType: 'user',
    actorId: user.id,
    action,
    targetType: 'user',
    targetId: user.id,
    ip: clientIp(request),
    details: { sessionsRevoked: revoked },
  });
  await enqueueMail(db, {
    tenantId: user.tenantId,
    to: user.email,
    subject: 'Your CallStack password was changed',
    text: `Hello ${user.displayName},\n\nyour password was just changed and every device was signed out.\nIf this was not you, reset your password now and tell your administrator.\n`,
  });
}
