import type { Role } from '@callstack/protocol';
import { randomToken, sha256Hex } from '../auth/encoding.ts';
import type { Db } from './client.ts';

export const INVITE_TTL_HOURS = 72;

export async function createInvite(
  db: Db,
  invite: { tenantId: string; email: string; role: Role; invitedBy: string },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const id = crypto.randomUUID();
  const token = randomToken();
  const { rows } = await db.query<{ expires_at: Date }>(
    `insert into invites (id, tenant_id, email, role, token_hash, invited_by, expires_at)
     values ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7)) returning expires_at`,
    [id, invite.tenantId, invite.email, invite.role, await sha256Hex(token), invite.invitedBy, INVITE_TTL_HOURS],
  );
  return { id, token, expiresAt: new Date(rows[0]!.expires_at) };
}

export type InviteClaim = { outcome: 'claimed'; id: string; tenantId: string; email: string; role: Role } | { outcome: 'unknown' | 'expired' | 'used' };

/** Marks the invite used. Must run inside a transaction with the user's creation. */
export async function claimInvite(db: Db, token: string): Promise<InviteClaim> {
  const { rows } = await db.query<{ id: string; tenant_id: string; email: string; role: Role; used: boolean; expired: boolean }>(
    `select id, tenant_id, email, role, accepted_at is not null as used, expires_at <= now() as expired
       from invites where token_hash = $1 for update`,
    [await sha256Hex(token)],
  );
  const row = rows[0];
  if (!row) return { outcome: 'unknown' };
  if (row.used) return { outcome: 'used' };
  if (row.expired) return { outcome: 'expired' };
  await db.query('update invites set accepted_at = now() where id = $1', [row.id]);
  return { outcome: 'claimed', id: row.id, tenantId: row.tenant_id, email: row.email, role: row.role };
}
