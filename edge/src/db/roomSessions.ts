import type { CallQualityView } from '@callstack/protocol';
import { qualityColumns, qualityOf, qualityParams } from './callRecords.ts';
import type { Db } from './client.ts';

/** The CDR of one participant's stay in a conference room, written by the Room object when they leave. */
export interface RoomSessionRecord {
  /** The participant's peer id: unique per stay, so a retried write is a no-op. */
  sessionId: string;
  tenantId: string;
  roomId: string;
  userId: string;
  joinedAt: number;
  leftAt: number;
  quality: CallQualityView | null;
}

export async function insertRoomSession(db: Db, record: RoomSessionRecord): Promise<void> {
  const quality = record.quality ? qualityParams(record.quality) : [0, null, null, null, null, null, null, null];
  await db.query(
    `insert into room_sessions
       (session_id, tenant_id, room_id, user_id, joined_at, left_at, duration_ms,
        samples, mos_min, mos_avg, loss_avg, loss_max, jitter_avg, rtt_avg, codec)
     values ($1, $2, $3, $4, to_timestamp($5 / 1000.0), to_timestamp($6 / 1000.0), $7, $8, $9, $10, $11, $12, $13, $14, $15)
     on conflict (session_id) do nothing`,
    [record.sessionId, record.tenantId, record.roomId, record.userId, record.joinedAt, record.leftAt, Math.max(0, record.leftAt - record.joinedAt), ...quality],
  );
}

/** A user's stays in conference rooms, newest first (their data export). */
export async function listRoomSessions(db: Db, tenantId: string, userId: string, limit: number) {
  const { rows } = await db.query<{ room_id: string; joined_at: Date; left_at: Date; duration_ms: number } & Record<string, unknown>>(
    `select s.room_id, s.joined_at, s.left_at, s.duration_ms, ${qualityColumns('s', 'q')}
       from room_sessions s
      where s.tenant_id = $1 and s.user_id = $2
      order by s.joined_at desc
      limit $3`,
    [tenantId, userId, limit],
  );
  return rows.map((row) => ({
    roomId: row.room_id,
    joinedAt: new Date(row.joined_at).toISOString(),
    leftAt: new Date(row.left_at).toISOString(),
    durationMs: row.duration_ms,
    quality: qualityOf(row, 'q'),
  }));
}
