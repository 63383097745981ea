/**
 * A user's personal data: everything we hold about them for an export, and its erasure. Erasure
 * keeps the user row as an anonymous tombstone because call records (needed for billing) point
 * at it; the records then name nobody.
 */
import type { Db } from './client.ts';
import { revokeAllRefreshTokens } from './sessions.ts';
import { otherActiveAdmins } from './users.ts';

export const ERASED_DISPLAY_NAME = 'Erased user';

export interface ProfileExport {
  id: string;
  email: string;
  displayName: string;
  role: string;
  createdAt: string;
  deactivatedAt: string | null;
  /** Their number is withheld on calls to the outside. */
  withholdCallerId: boolean;
  organisation: { id: string; name: string };
}

export async function exportProfile(db: Db, tenantId: string, userId: string): Promise<ProfileExport | null> {
  const { rows } = await db.query<{
    email: string;
    display_name: string;
    role: string;
    created_at: Date;
    deactivated_at: Date | null;
    withhold_caller_id: boolean;
    tenant_name: string;
  }>(
    `select u.email, u.display_name, u.role, u.created_at, u.deactivated_at, u.withhold_caller_id, t.name as tenant_name
       from users u join tenants t on t.id = u.tenant_id
      where u.tenant_id = $1 and u.id = $2 and u.erased_at is null`,
    [tenantId, userId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: userId,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    createdAt: new Date(row.created_at).toISOString(),
    deactivatedAt: row.deactivated_at ? new Date(row.deactivated_at).toISOString() : null,
    withholdCallerId: row.withhold_caller_id,
    organisation: { id: tenantId, name: row.tenant_name },
  };
}

export async function exportSessions(db: Db, userId: string): Promise<{ createdAt: string; expiresAt: string; revokedAt: string | null }[]> {
  const { rows } = await db.query<{ created_at: Date; expires_at: Date; revoked_at: Date | null }>(
    'select created_at, expires_at, revoked_at from refresh_tokens where user_id = $1 order by created_at',
    [userId],
  );
  return rows.map((row) => ({
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
    revokedAt: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
  }));
}

/** Audit entries where the user acted or was acted on. */
export async function exportAuditTrail(
  db: Db,
  tenantId: string,
  userId: string,
): Promise<{ action: string; actorType: string; ip: string | null; at: string }[]> {
  const { rows } = await db.query<{ action: string; actor_type: string; ip: string | null; created_at: Date }>(
    `select action, actor_type, ip, created_at from audit_log
      where tenant_id = $1 and (actor_id = $2 or target_id = $2) order by id`,
    [tenantId, userId],
  );
  return rows.map((row) => ({ action: row.action, actorType: row.actor_type, ip: row.ip, at: new Date(row.created_at).toISOString() }));
}

export type Erasure = { outcome: 'erased' | 'not_found' | 'last_admin' };

/** Removes the user's personal data; must run in a transaction. */
export async function eraseUser(db: Db, tenantId: string, userId: string): Promise<Erasure> {
  const { rows } = await db.query<{ email: string; role: string; active: boolean }>(
    'select email, role, deactivated_at is null as active from users where tenant_id = $1 and id = $2 and erased_at is null for update',
    [tenantId, userId],
  );
  const user = rows[0];
  if (!user) return { outcome: 'not_found' };
  if (user.active && user.role === 'admin' && (await otherActiveAdmins(db, tenantId, userId)) === 0) return { outcome: 'last_admin' };

  await revokeAllRefreshTokens(db, userId);
  // Their own address book, and their entry in colleagues' address books.
  await db.query('delete from contacts where tenant_id = $1 and (owner_id = $2 or user_id = $2)', [tenantId, userId]);
  await db.query('delete from sip_credentials where user_id = $1', [userId]);
  await db.query('delete from voicemail_greetings where user_id = $1', [userId]);
  await db.query('delete from password_resets where user_id = $1', [userId]);
  await db.query('delete from invites where tenant_id = $1 and email = $2 and accepted_at is null', [tenantId, user.email]);
  await db.query(`update outbox set to_address = 'erased', subject = '', body_text = '' where to_address = $1`, [user.email]);
  // The audit trail stays (security record) but without where they connected from or their address.
  await db.query('update audit_log set ip = null where tenant_id = $1 and actor_id = $2', [tenantId, userId]);
  await db.query(`update audit_log set details = details - 'email' where tenant_id = $1 and details->>'email' = $2`, [tenantId, user.email]);
  await db.query(
    `update users set email = $3, display_name = $4, password_hash = '!', erased_at = now(),
            deactivated_at = coalesce(deactivated_at, now())
      where tenant_id = $1 and id = $2`,
    [tenantId, userId, `erased+${userId}@erased.invalid`, ERASED_DISPLAY_NAME],
  );
  return { outcome: 'erased' };
}
