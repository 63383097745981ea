/**
 * Conference recordings (migration 0004): written by the Room object as recordings start and
 * end, read by the REST routes. Every read is scoped by tenant; who may see a recording is
 * decided here too (participants, or everyone when the caller may read all).
 */
import type { MediaKind, ProducerSource, RecordedTrack, RecordingStatus, RecordingView } from '@callstack/protocol';
import type { Db } from './client.ts';

export interface NewRecording {
  id: string;
  tenantId: string;
  roomId: string;
  /** The recorded 1:1 call the room carries, if any. */
  callId: string | null;
  startedBy: { userId: string; displayName: string };
  startedAt: number;
  nodeId: string;
  nodeUrl: string;
  participants: string[];
}

export async function insertRecording(db: Db, recording: NewRecording): Promise<void> {
  await db.query(
    `insert into recordings (id, tenant_id, room_id, started_by, started_by_name, started_at, status, node_id, node_url, call_id)
     values ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0), 'recording', $7, $8, $9)`,
    [
      recording.id,
      recording.tenantId,
      recording.roomId,
      recording.startedBy.userId,
      recording.startedBy.displayName,
      recording.startedAt,
      recording.nodeId,
      recording.nodeUrl,
      recording.callId,
    ],
  );
  await addParticipants(db, recording.id, recording.participants);
}

/** Users who were in the room while it was recorded; idempotent. */
export async function addParticipants(db: Db, recordingId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.query(
    `insert into recording_participants (recording_id, user_id)
     select $1, unnest($2::text[]) on conflict do nothing`,
    [recordingId, [...new Set(userIds)]],
  );
}

export interface FinishedTrack extends RecordedTrack {
  /** The producing user, from the room's peer map; null if unknown. */
  userId: string | null;
}

/** Closes a recording with its tracks; a recording already closed is left as it is. */
export async function finishRecording(
  db: Db,
  recordingId: string,
  outcome: { status: Exclude<RecordingStatus, 'recording'>; endedAt: number; tracks: FinishedTrack[] },
): Promise<boolean> {
  const size = outcome.tracks.reduce((sum, track) => sum + track.sizeBytes, 0);
  const storage = outcome.tracks.some((track) => track.storage === 's3') ? 's3' : outcome.tracks.length > 0 ? 'local' : null;
  const { rowCount } = await db.query(
    `update recordings
        set status = $2, ended_at = to_timestamp($3 / 1000.0), size_bytes = $4, storage = $5,
            duration_ms = greatest(0, round(extract(epoch from (to_timestamp($3 / 1000.0) - started_at)) * 1000))::integer
      where id = $1 and status = 'recording'`,
    [recordingId, outcome.status, outcome.endedAt, size, storage],
  );
  if (!rowCount) return false;
  for (const track of outcome.tracks) {
    await db.query(
      `insert into recording_tracks
         (recording_id, track_id, user_id, peer_id, kind, source, codec, file_key, storage, size_bytes, duration_ms, started_at, ended_at)
       values ($1, $2, (select id from users where id = $3), $4, $5, $6, $7, $8, $9, $10, $11, to_timestamp($12 / 1000.0), to_timestamp($13 / 1000.0))
       on conflict do nothing`,
      [
        recordingId,
        track.trackId,
        track.userId,
        track.peerId,
        track.kind,
        track.source,
        track.codec,
        track.key,
        track.storage,
        track.sizeBytes,
        track.durationMs,
        track.startedAt,
        track.endedAt,
      ],
    );
  }
  return true;
}

export type Visibility = { userId: string; readAll: boolean };

interface RecordingRow {
  id: string;
  room_id: string;
  call_id: string | null;
  started_by: string | null;
  started_by_name: string;
  started_at: Date;
  ended_at: Date | null;
  status: RecordingStatus;
  size_bytes: string;
  duration_ms: number;
}

interface TrackRow {
  recording_id: string;
  track_id: string;
  user_id: string | null;
  display_name: string | null;
  kind: MediaKind;
  source: ProducerSource;
  codec: string;
  size_bytes: string;
  duration_ms: number;
}

/** Recordings of the tenant the caller may see, newest first, with their tracks. */
export async function listRecordings(db: Db, tenantId: string, who: Visibility, limit = 100): Promise<RecordingView[]> {
  const { rows } = await db.query<RecordingRow>(
    `select r.id, r.room_id, r.call_id, r.started_by, r.started_by_name, r.started_at, r.ended_at, r.status, r.size_bytes::text, r.duration_ms
       from recordings r
      where r.tenant_id = $1
        and ($3 or exists (select 1 from recording_participants p where p.recording_id = r.id and p.user_id = $2))
      order by r.started_at desc
      limit $4`,
    [tenantId, who.userId, who.readAll, limit],
  );
  return withTracks(db, rows);
}

/** One recording of the tenant: `not_found` when it is another tenant's or absent, `hidden` when the caller may not see it. */
export async function findRecording(db: Db, tenantId: string, recordingId: string, who: Visibility): Promise<RecordingView | 'not_found' | 'hidden'> {
  const { rows } = await db.query<RecordingRow & { visible: boolean }>(
    `select r.id, r.room_id, r.call_id, r.started_by, r.started_by_name, r.started_at, r.ended_at, r.status, r.size_bytes::text, r.duration_ms,
            ($3 or exists (select 1 from recording_participants p where p.recording_id = r.id and p.user_id = $2)) as visible
       from recordings r
      where r.tenant_id = $1 and r.id = $4`,
    [tenantId, who.userId, who.readAll, recordingId],
  );
  const row = rows[0];
  if (!row) return 'not_found';
  if (!row.visible) return 'hidden';
  return (await withTracks(db, [row]))[0]!;
}

export interface TrackFile {
  fileKey: string;
  storage: 'local' | 's3';
  codec: string;
  nodeUrl: string;
}

export async function findTrackFile(db: Db, recordingId: string, trackId: string): Promise<TrackFile | null> {
  const { rows } = await db.query<{ file_key: string; storage: 'local' | 's3'; codec: string; node_url: string }>(
    `select t.file_key, t.storage, t.codec, r.node_url
       from recording_tracks t join recordings r on r.id = t.recording_id
      where t.recording_id = $1 and t.track_id = $2`,
    [recordingId, trackId],
  );
  const row = rows[0];
  return row ? { fileKey: row.file_key, storage: row.storage, codec: row.codec, nodeUrl: row.node_url } : null;
}

async function withTracks(db: Db, rows: RecordingRow[]): Promise<RecordingView[]> {
  if (rows.length === 0) return [];
  const { rows: tracks } = await db.query<TrackRow>(
    `select t.recording_id, t.track_id, t.user_id, u.display_name, t.kind, t.source, t.codec, t.size_bytes::text, t.duration_ms
       from recording_tracks t left join users u on u.id = t.user_id
      where t.recording_id = any($1::text[])
      order by t.started_at, t.track_id`,
    [rows.map((row) => row.id)],
  );
  return rows.map((row) => ({
    id: row.id,
    roomId: row.room_id,
    callId: row.call_id,
    startedBy: { userId: row.started_by, displayName: row.started_by_name },
    startedAt: new Date(row.started_at).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
    status: row.status,
    sizeBytes: Number(row.size_bytes),
    durationMs: row.duration_ms,
    tracks: tracks
      .filter((track) => track.recording_id === row.id)
      .map((track) => ({
        trackId: track.track_id,
        user: track.user_id ? { userId: track.user_id, displayName: track.display_name ?? '' } : null,
        kind: track.kind,
        source: track.source,
        codec: track.codec,
        sizeBytes: Number(track.size_bytes),
        durationMs: track.duration_ms,
        downloadPath: `/api/recordings/${encodeURIComponent(row.id)}/tracks/${encodeURIComponent(track.track_id)}/file`,
      })),
  }));
}
