import type { CallQualityView } from '@callstack/protocol';
import { qualityParams } from './callRecords.ts';
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
    [
      record.sessionId,
      record.tenantId,
      record.roomId,
      record.userId,
      record.joinedAt,
      record.leftAt,
      Math.max(0, record.leftAt - record.joinedAt),
      ...quality,
    ],
  );
}
