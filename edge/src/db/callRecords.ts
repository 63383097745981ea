import type { AdminCallView, CallQualityView, CallRecordView, EndReason } from '@callstack/protocol';
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
  callerLeg: 'web' | 'sip';
  calleeLeg: 'web' | 'sip' | null;
  sipStatus: number | null;
  postDialDelayMs: number | null;
  /** Each party that reported, with their aggregated quality. */
  quality: { userId: string; summary: CallQualityView }[];
}

/**
 * Idempotent: a retried write of the same call is a no-op. One statement (the record and its
 * quality rows land together), so one round trip and no transaction around it.
 */
export async function insertCallRecord(db: Db, record: CallRecord): Promise<void> {
  const quality = record.quality.map(({ userId, summary }) => {
    const [samples, mosMin, mosAvg, lossAvg, lossMax, jitterAvg, rttAvg, codec] = qualityParams(summary);
    return { user_id: userId, samples, mos_min: mosMin, mos_avg: mosAvg, loss_avg: lossAvg, loss_max: lossMax, jitter_avg: jitterAvg, rtt_avg: rttAvg, codec };
  });
  await db.query(
    `with record as (
       insert into call_records
         (call_id, tenant_id, caller_id, callee_id, created_at, answered_at, ended_at, end_reason, duration_ms,
          caller_leg, callee_leg, sip_status, post_dial_delay_ms)
       values ($1, $2, $3, $4, to_timestamp($5 / 1000.0), to_timestamp($6 / 1000.0), to_timestamp($7 / 1000.0), $8, $9, $10, $11, $12, $13)
       on conflict (call_id) do nothing
     )
     insert into call_quality (call_id, user_id, samples, mos_min, mos_avg, loss_avg, loss_max, jitter_avg, rtt_avg, codec)
     select $1, q.user_id, q.samples, q.mos_min, q.mos_avg, q.loss_avg, q.loss_max, q.jitter_avg, q.rtt_avg, q.codec
       from jsonb_to_recordset($14::jsonb) as q(user_id text, samples integer, mos_min double precision, mos_avg double precision,
            loss_avg double precision, loss_max double precision, jitter_avg double precision, rtt_avg double precision, codec text)
     on conflict (call_id, user_id) do nothing`,
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
      record.callerLeg,
      record.calleeLeg,
      record.sipStatus,
      record.postDialDelayMs,
      JSON.stringify(quality),
    ],
  );
}

/** A quality summary as the bound parameters of the CDR's quality columns (samples … codec). */
export function qualityParams(q: CallQualityView): [number, number, number, number, number, number, number, string] {
  return [q.samples, q.mosMin, q.mosAvg, q.lossAvg, q.lossMax, q.jitterAvg, q.rttAvg, q.codec];
}

/** The quality columns of `call_quality` or `room_sessions` under `alias`, as `<prefix>_<column>`. */
export function qualityColumns(alias: string, prefix: string): string {
  return ['samples', 'mos_min', 'mos_avg', 'loss_avg', 'loss_max', 'jitter_avg', 'rtt_avg', 'codec']
    .map((column) => `${alias}.${column} as ${prefix}_${column}`)
    .join(', ');
}

/** The columns `qualityColumns` selected (numbers, codec text, all null without a quality row). */
type QualityRow = Record<string, unknown>;

/** Reads the columns `qualityColumns` selected; null when there were no reports. */
export function qualityOf(row: QualityRow, prefix: string): CallQualityView | null {
  const get = (column: string) => row[`${prefix}_${column}`];
  const samples = Number(get('samples') ?? 0);
  if (samples === 0) return null;
  return {
    samples,
    mosMin: Number(get('mos_min')),
    mosAvg: Number(get('mos_avg')),
    lossAvg: Number(get('loss_avg')),
    lossMax: Number(get('loss_max')),
    jitterAvg: Number(get('jitter_avg')),
    rttAvg: Number(get('rtt_avg')),
    codec: String(get('codec')),
  };
}

export async function listCallHistory(db: Db, tenantId: string, userId: string, limit = 50): Promise<CallRecordView[]> {
  const { rows } = await db.query<
    {
      call_id: string;
      caller_id: string;
      peer_id: string;
      peer_name: string | null;
      created_at: Date;
      answered_at: Date | null;
      ended_at: Date;
      end_reason: string;
      duration_ms: number;
    } & QualityRow
  >(
    `select c.call_id, c.caller_id, p.id as peer_id, p.display_name as peer_name,
            c.created_at, c.answered_at, c.ended_at, c.end_reason, c.duration_ms, ${qualityColumns('q', 'q')}
       from call_records c
       join users p on p.id = case when c.caller_id = $2 then c.callee_id else c.caller_id end
       left join call_quality q on q.call_id = c.call_id and q.user_id = $2
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
    quality: qualityOf(row, 'q'),
  }));
}

/** Every call of the tenant, newest first, with both parties' quality (admins and operators). */
export async function listTenantCalls(db: Db, tenantId: string, limit: number): Promise<AdminCallView[]> {
  const { rows } = await db.query<
    {
      call_id: string;
      caller_id: string;
      caller_name: string;
      callee_id: string;
      callee_name: string;
      created_at: Date;
      answered_at: Date | null;
      ended_at: Date;
      end_reason: string;
      duration_ms: number;
      caller_leg: 'web' | 'sip';
      callee_leg: 'web' | 'sip' | null;
      sip_status: number | null;
      post_dial_delay_ms: number | null;
    } & QualityRow
  >(
    `select c.call_id, c.caller_id, a.display_name as caller_name, c.callee_id, b.display_name as callee_name,
            c.created_at, c.answered_at, c.ended_at, c.end_reason, c.duration_ms,
            c.caller_leg, c.callee_leg, c.sip_status, c.post_dial_delay_ms,
            ${qualityColumns('qa', 'qa')}, ${qualityColumns('qb', 'qb')}
       from call_records c
       join users a on a.id = c.caller_id
       join users b on b.id = c.callee_id
       left join call_quality qa on qa.call_id = c.call_id and qa.user_id = c.caller_id
       left join call_quality qb on qb.call_id = c.call_id and qb.user_id = c.callee_id
      where c.tenant_id = $1
      order by c.created_at desc
      limit $2`,
    [tenantId, limit],
  );
  return rows.map((row) => ({
    callId: row.call_id,
    caller: { userId: row.caller_id, displayName: row.caller_name },
    callee: { userId: row.callee_id, displayName: row.callee_name },
    createdAt: new Date(row.created_at).toISOString(),
    answeredAt: row.answered_at ? new Date(row.answered_at).toISOString() : null,
    endedAt: new Date(row.ended_at).toISOString(),
    endReason: row.end_reason,
    durationMs: row.duration_ms,
    quality: { caller: qualityOf(row, 'qa'), callee: qualityOf(row, 'qb') },
    legs: { caller: row.caller_leg, callee: row.callee_leg },
    sipStatus: row.sip_status,
    postDialDelayMs: row.post_dial_delay_ms,
  }));
}
