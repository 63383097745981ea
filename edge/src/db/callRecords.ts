import type { CallRecordView, EndReason } from '@callstack/protocol';
import type { Db } from './client.ts';

/** The CDR of one call attempt, as the call session produces it when the call ends. */
export interface CallRecord {
  callId: string;
  tenantId: string;
  callerId: string;
  calleeId: string;
  createdAt: number;
  answeredAt: number | null;
  endedAt: number;
  endReason: EndReason;
  durationMs: number;
}

/** Idempotent: a retried write of the same call is a no-op. */
export async function insertCallRecord(db: Db, record: CallRecord): Promise<void> {
  await db.query(
    `insert into call_records
       (call_id, tenant_id, caller_id, callee_id, created_at, answered_at, ended_at, end_reason, duration_ms)
     values ($1, $2, $3, $4, to_timestamp($5 / 1000.0), to_timestamp($6 / 1000.0), to_timestamp($7 / 1000.0), $8, $9)
     on conflict (call_id) do nothing`,
    [
      record.callId,
      record.tenantId,
      record.callerId,
      record.calleeId,
      record.createdAt,
      record.answeredAt,
      record.endedAt,
      record.endReason,
      record.durationMs,
    ],
  );
}

export async function listCallHistory(db: Db, tenantId: string, userId: string, limit = 50): Promise<CallRecordView[]> {
  const { rows } = await db.query<{
    call_id: string;
    caller_id: string;
    peer_id: string;
    peer_name: string | null;
    created_at: Date;
    answered_at: Date | null;
    ended_at: Date;
    end_reason: string;
    duration_ms: number;
  }>(
    `select c.call_id, c.caller_id, p.id as peer_id, p.display_name as peer_name,
            c.created_at, c.answered_at, c.ended_at, c.end_reason, c.duration_ms
       from call_records c
       join users p on p.id = case when c.caller_id = $2 then c.callee_id else c.caller_id end
      where c.tenant_id = $1 and (c.caller_id = $2 or c.callee_id = $2)
      order by c.created_at desc
      limit $3`,
    [tenantId, userId, limit],
  );
  return rows.map((row) => ({
    callId: row.call_id,
    direction: row.caller_id === userId ? 'outgoing' : 'incoming',
    peer: { userId: row.peer_id, displayName: row.peer_name ?? 'Unknown' },
    createdAt: new Date(row.created_at).toISOString(),
    answeredAt: row.answered_at ? new Date(row.answered_at).toISOString() : null,
    endedAt: new Date(row.ended_at).toISOString(),
    endReason: row.end_reason,
    durationMs: row.duration_ms,
  }));
}
