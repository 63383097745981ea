import { randomToken, sha256Hex } from '../auth/encoding.ts';
import type { Db } from './client.ts';

export const RESET_TTL_MINUTES = 60;

export async function createPasswordReset(db: Db, owner: { tenantId: string; userId: string }): Promise<string> {
  const token = randomToken();
  await db.query(
    `insert into password_resets (id, tenant_id, user_id, token_hash, expires_at)
     values ($1, $2, $3, $4, now() + make_interval(mins => $5))`,
    [crypto.randomUUID(), owner.tenantId, owner.userId, await sha256Hex(token), RESET_TTL_MINUTES],
  );
  return token;
}

/** Resets asked for this user in the last `minutes`: caps mail sent to one inbox. */
export async function recentResetCount(db: Db, userId: string, minutes: number): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `select count(*) as count from password_resets where user_id = $1 and created_at > now() - make_interval(mins => $2)`,
    [userId, minutes],
  );
  return Number(rows[0]?.count ?? 0);
}

export type ResetClaim = { outcome: 'claimed'; tenantId: string; userId: string } | { outcome: 'invalid' };

/**
 * Spends a reset token: unknown, used and expired tokens are all just invalid, so a guess learns
 * nothing. Using one spends every other outstanding token of the user too. In a transaction.
 */
export async function claimPasswordReset(db: Db, token: string): Promise<ResetClaim> {
  const { rows } = await db.query<{ tenant_id: string; user_id: string }>(
    `select tenant_id, user_id from password_resets
      where token_hash = $1 and used_at is null and expires_at > now() for update`,
    [await sha256Hex(token)],
  );
  const row = rows[0];
  if (!row) return { outcome: 'invalid' };
  await db.query('update password_resets set used_at = now() where user_id = $1 and used_at is null', [row.user_id]);
  return { outcome: 'claimed', tenantId: row.tenant_id, userId: row.user_id };
}
