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
