import type { SipCredentialsView } from '@callstack/protocol';
import type { Db } from './client.ts';

export interface SipSecret {
  tenantId: string;
  userId: string;
  username: string;
  realm: string;
  ha1: string;
}

/** Creates the user's credentials, or replaces the secret and keeps the username. */
export async function saveSipCredentials(db: Db, secret: SipSecret): Promise<SipCredentialsView> {
  const { rows } = await db.query<Row>(
    `insert into sip_credentials (user_id, tenant_id, username, realm, ha1) values ($1, $2, $3, $4, $5)
     on conflict (user_id) do update set realm = excluded.realm, ha1 = excluded.ha1, rotated_at = now()
     returning username, realm, created_at, rotated_at`,
    [secret.userId, secret.tenantId, secret.username, secret.realm, secret.ha1],
  );
  return toView(rows[0]!);
}

export async function findSipCredentials(db: Db, tenantId: string, userId: string): Promise<SipCredentialsView | null> {
  const { rows } = await db.query<Row>('select username, realm, created_at, rotated_at from sip_credentials where tenant_id = $1 and user_id = $2', [
    tenantId,
    userId,
  ]);
  return rows[0] ? toView(rows[0]) : null;
}

interface Row {
  username: string;
  realm: string;
  created_at: Date;
  rotated_at: Date;
}

function toView(row: Row): SipCredentialsView {
  return { username: row.username, realm: row.realm, createdAt: new Date(row.created_at).toISOString(), rotatedAt: new Date(row.rotated_at).toISOString() };
}

/** A SIP account of an active user, with what digest authentication needs. */
export interface SipAccount {
  tenantId: string;
  userId: string;
  displayName: string;
  username: string;
  realm: string;
  ha1: string;
}

export async function findSipAccount(db: Db, username: string): Promise<SipAccount | null> {
  const { rows } = await db.query<{ tenant_id: string; user_id: string; display_name: string; username: string; realm: string; ha1: string }>(
    `select s.tenant_id, s.user_id, u.display_name, s.username, s.realm, s.ha1
       from sip_credentials s join users u on u.id = s.user_id and u.tenant_id = s.tenant_id
      where s.username = $1 and u.deactivated_at is null`,
    [username],
  );
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, userId: row.user_id, displayName: row.display_name, username: row.username, realm: row.realm, ha1: row.ha1 } : null;
}

/**
 * Whom a phone of `tenantId` reaches by dialling `target`: a colleague's extension, SIP username
 * or user id, active and in the same tenant. Anything else is null, whatever exists elsewhere.
 */
export async function findSipTarget(db: Db, tenantId: string, target: string): Promise<{ userId: string; displayName: string } | null> {
  const { rows } = await db.query<{ id: string; display_name: string }>(
    `select u.id, u.display_name from users u left join sip_credentials s on s.user_id = u.id
      where u.tenant_id = $1 and u.deactivated_at is null and (u.extension = $2 or s.username = $2 or u.id = $2)
      order by (u.extension = $2) desc nulls last limit 1`,
    [tenantId, target],
  );
  return rows[0] ? { userId: rows[0].id, displayName: rows[0].display_name } : null;
}
