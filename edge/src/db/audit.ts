import type { AuditEntry } from '@callstack/protocol';
import type { Db } from './client.ts';

export type ActorType = 'user' | 'api_key' | 'anonymous';

export interface AuditEvent {
  tenantId: string;
  actorType: ActorType;
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: Db, event: AuditEvent): Promise<void> {
  await db.query(
    `insert into audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, ip, details)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      event.tenantId,
      event.actorType,
      event.actorId,
      event.action,
      event.targetType ?? null,
      event.targetId ?? null,
      event.ip ?? null,
      JSON.stringify(event.details ?? {}),
    ],
  );
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetId?: string;
  /** Only entries older than this id (for paging). */
  before?: string;
  limit: number;
}

export async function listAudit(db: Db, tenantId: string, filter: AuditFilter): Promise<AuditEntry[]> {
  const { rows } = await db.query<{
    id: string;
    actor_type: ActorType;
    actor_id: string | null;
    action: string;
    target_type: string | null;
    target_id: string | null;
    ip: string | null;
    details: Record<string, unknown>;
    created_at: Date;
  }>(
    `select id::text, actor_type, actor_id, action, target_type, target_id, ip, details, created_at
       from audit_log
      where tenant_id = $1
        and ($2::text is null or action = $2)
        and ($3::text is null or actor_id = $3)
        and ($4::text is null or target_id = $4)
        and ($5::bigint is null or id < $5)
      order by id desc
      limit $6`,
    [tenantId, filter.action ?? null, filter.actorId ?? null, filter.targetId ?? null, filter.before ?? null, filter.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    details: row.details,
    createdAt: new Date(row.created_at).toISOString(),
  }));
}
