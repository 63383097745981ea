import type { ApiKeyView, Role } from '@callstack/protocol';
import { randomToken, sha256Hex } from '../auth/encoding.ts';
import type { Db } from './client.ts';

/** Keys look like `csk_<prefix>_<secret>`: recognisable in logs and secret scanners. */
export const API_KEY_PREFIX = 'csk_';

export async function createApiKey(db: Db, key: { tenantId: string; name: string; role: Role; createdBy: string }): Promise<{ view: ApiKeyView; key: string }> {
  const id = crypto.randomUUID();
  const prefix = randomToken(6).replace(/[-_]/g, 'x').slice(0, 8);
  const secret = `${API_KEY_PREFIX}${prefix}_${randomToken(32)}`;
  const { rows } = await db.query<{ created_at: Date }>(
    `insert into api_keys (id, tenant_id, name, prefix, key_hash, role, created_by)
     values ($1, $2, $3, $4, $5, $6, $7) returning created_at`,
    [id, key.tenantId, key.name, prefix, await sha256Hex(secret), key.role, key.createdBy],
  );
  return {
    key: secret,
    view: { id, name: key.name, prefix, role: key.role, createdAt: new Date(rows[0]!.created_at).toISOString(), lastUsedAt: null, revoked: false },
  };
}

export interface ApiKeyOwner {
  id: string;
  tenantId: string;
  name: string;
  role: Role;
  /** Whether this use should be written to the audit log (at most once a minute per key). */
  auditUse: boolean;
}

/** Resolves a presented key and stamps its use; null for unknown or revoked keys. */
export async function useApiKey(db: Db, key: string): Promise<ApiKeyOwner | null> {
  const { rows } = await db.query<{ id: string; tenant_id: string; name: string; role: Role; audit_use: boolean }>(
    `update api_keys k set last_used_at = now()
       from (select id, last_used_at from api_keys where key_hash = $1 and revoked_at is null) old
      where k.id = old.id
      returning k.id, k.tenant_id, k.name, k.role,
                (old.last_used_at is null or old.last_used_at < now() - interval '1 minute') as audit_use`,
    [await sha256Hex(key)],
  );
  const row = rows[0];
  return row ? { id: row.id, tenantId: row.tenant_id, name: row.name, role: row.role, auditUse: row.audit_use } : null;
}

export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKeyView[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    prefix: string;
    role: Role;
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
  }>('select id, name, prefix, role, created_at, last_used_at, revoked_at from api_keys where tenant_id = $1 order by created_at desc', [tenantId]);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    createdAt: new Date(row.created_at).toISOString(),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
    revoked: row.revoked_at !== null,
  }));
}

/** Returns false when no such key exists in the tenant. */
export async function revokeApiKey(db: Db, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('update api_keys set revoked_at = coalesce(revoked_at, now()) where tenant_id = $1 and id = $2', [tenantId, id]);
  return Boolean(rowCount);
}
