/**
 * Refresh tokens: opaque, stored as SHA-256 hashes, rotated on every use. A rotation keeps the
 * family id; presenting an already-rotated token revokes the whole family (token theft).
 */
import { randomToken, sha256Hex } from '../auth/encoding.ts';
import type { Db } from './db.ts';

export const REFRESH_TOKEN_TTL_DAYS = 30;

export interface IssuedRefreshToken {
  token: string;
  familyId: string;
}

export async function issueRefreshToken(
  db: Db,
  owner: { tenantId: string; userId: string },
  familyId: string = crypto.randomUUID(),
): Promise<IssuedRefreshToken> {
  const token = randomToken();
  await db.query(
    `insert into refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at)
     values ($1, $2, $3, $4, $5, now() + make_interval(days => $6))`,
    [crypto.randomUUID(), owner.tenantId, owner.userId, familyId, await sha256Hex(token), REFRESH_TOKEN_TTL_DAYS],
  );
  return { token, familyId };
}

export type RotationResult = { outcome: 'rotated'; userId: string; tenantId: string; token: string } | { outcome: 'reused' | 'invalid' };

/** Spends `token` and issues its successor. Must run inside a transaction. */
export async function rotateRefreshToken(db: Db, token: string): Promise<RotationResult> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    user_id: string;
    family_id: string;
    revoked: boolean;
    expired: boolean;
  }>(
    `select id, tenant_id, user_id, family_id, revoked_at is not null as revoked, expires_at <= now() as expired
       from refresh_tokens where token_hash = $1 for update`,
    [await sha256Hex(token)],
  );
  const row = rows[0];
  if (!row || row.expired) return { outcome: 'invalid' };
  if (row.revoked) {
    await revokeFamily(db, row.family_id);
    return { outcome: 'reused' };
  }
  await db.query('update refresh_tokens set revoked_at = now() where id = $1', [row.id]);
  const next = await issueRefreshToken(db, { tenantId: row.tenant_id, userId: row.user_id }, row.family_id);
  return { outcome: 'rotated', userId: row.user_id, tenantId: row.tenant_id, token: next.token };
}

export async function revokeRefreshToken(db: Db, token: string): Promise<void> {
  const { rows } = await db.query<{ family_id: string }>('select family_id from refresh_tokens where token_hash = $1', [await sha256Hex(token)]);
  if (rows[0]) await revokeFamily(db, rows[0].family_id);
}

async function revokeFamily(db: Db, familyId: string): Promise<void> {
  await db.query('update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null', [familyId]);
}

/** Signs the user out everywhere: every refresh token of every device stops working. */
export async function revokeAllRefreshTokens(db: Db, userId: string): Promise<number> {
  const { rowCount } = await db.query('update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null', [userId]);
  return rowCount ?? 0;
}
