/**
 * Voicemail messages (migration 0012): filed when a gateway reports one, read and removed by their
 * owner. Every query is scoped by tenant and owner: another user's message is not there at all.
 */
import type { E164, SipGatewayNode, VoicemailRecorded, VoicemailView } from '@callstack/protocol';
import type { Db } from './client.ts';

/** Where a message's file is: the gateway that recorded it, and its key there. */
export interface VoicemailFile {
  id: string;
  fileKey: string;
  nodeUrl: string;
}

/**
 * Files the message in the mailbox of the user the call rang (its PSTN record says whom, and from
 * which number). Null when the call is not this tenant's inbound call to a user; the same message
 * reported twice is filed once (by call): `fresh` is false for the repeat.
 */
export async function fileVoicemail(
  db: Db,
  node: SipGatewayNode,
  message: VoicemailRecorded,
): Promise<{ id: string; userId: string; from: E164 | null; fresh: boolean } | null> {
  const { rows } = await db.query<{ id: string; user_id: string; caller_number: string | null; fresh: boolean }>(
    `with filed as (
       insert into voicemails (id, tenant_id, user_id, call_id, caller_number, received_at, duration_ms, size_bytes, content_type, file_key, node_id, node_url)
       select $1, r.tenant_id, r.user_id, r.call_id, r.caller_id, to_timestamp($4 / 1000.0), $5, $6, $7, $8, $9, $10
         from pstn_call_records r
        where r.tenant_id = $2 and r.call_id = $3 and r.direction = 'inbound' and r.user_id is not null
       on conflict (call_id) do nothing
       returning id, user_id, caller_number)
     select id, user_id, caller_number, true as fresh from filed
     union all
     select id, user_id, caller_number, false from voicemails where tenant_id = $2 and call_id = $3`,
    [
      crypto.randomUUID(),
      message.tenantId,
      message.callId,
      message.startedAt,
      message.durationMs,
      message.sizeBytes,
      message.contentType,
      message.fileKey,
      node.nodeId,
      node.controlUrl,
    ],
  );
  const row = rows[0];
  return row ? { id: row.id, userId: row.user_id, from: row.caller_number as E164 | null, fresh: row.fresh } : null;
}

interface Row {
  id: string;
  caller_number: string | null;
  received_at: Date;
  duration_ms: number;
  heard_at: Date | null;
  contact_name: string | null;
}

/** The user's messages, newest first, each with the name their contacts give the caller's number. */
export async function listVoicemails(db: Db, tenantId: string, userId: string): Promise<VoicemailView[]> {
  const { rows } = await db.query<Row>(
    `select v.id, v.caller_number, v.received_at, v.duration_ms, v.heard_at,
            (select c.display_name from contacts c
              where c.tenant_id = v.tenant_id and c.owner_id = v.user_id and c.phone_e164 = v.caller_number limit 1) as contact_name
       from voicemails v where v.tenant_id = $1 and v.user_id = $2 order by v.received_at desc, v.id`,
    [tenantId, userId],
  );
  return rows.map((row) => ({
    id: row.id,
    from: row.caller_number as E164 | null,
    fromName: row.contact_name,
    receivedAt: row.received_at.toISOString(),
    durationMs: row.duration_ms,
    heard: row.heard_at !== null,
  }));
}

export async function findVoicemailFile(db: Db, tenantId: string, userId: string, id: string): Promise<VoicemailFile | null> {
  const { rows } = await db.query<{ id: string; file_key: string; node_url: string }>(
    'select id, file_key, node_url from voicemails where tenant_id = $1 and user_id = $2 and id = $3',
    [tenantId, userId, id],
  );
  return rows[0] ? { id: rows[0].id, fileKey: rows[0].file_key, nodeUrl: rows[0].node_url } : null;
}

/** Every message of the user (their account is being erased). */
export async function voicemailFilesOf(db: Db, tenantId: string, userId: string): Promise<VoicemailFile[]> {
  const { rows } = await db.query<{ id: string; file_key: string; node_url: string }>(
    'select id, file_key, node_url from voicemails where tenant_id = $1 and user_id = $2',
    [tenantId, userId],
  );
  return rows.map((row) => ({ id: row.id, fileKey: row.file_key, nodeUrl: row.node_url }));
}

export async function markVoicemailHeard(db: Db, tenantId: string, userId: string, id: string, heard: boolean): Promise<boolean> {
  const result = await db.query(
    `update voicemails set heard_at = case when $4 then coalesce(heard_at, now()) else null end where tenant_id = $1 and user_id = $2 and id = $3`,
    [tenantId, userId, id, heard],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function deleteVoicemails(db: Db, tenantId: string, userId: string, ids: string[]): Promise<void> {
  await db.query('delete from voicemails where tenant_id = $1 and user_id = $2 and id = any($3::text[])', [tenantId, userId, ids]);
}

/** Whom to mail about a new message: the mailbox's owner, while their account is active. */
export async function mailboxOwner(db: Db, tenantId: string, userId: string): Promise<{ email: string; displayName: string } | null> {
  const { rows } = await db.query<{ email: string; display_name: string }>(
    'select email, display_name from users where tenant_id = $1 and id = $2 and deactivated_at is null and erased_at is null',
    [tenantId, userId],
  );
  return rows[0] ? { email: rows[0].email, displayName: rows[0].display_name } : null;
}

/** A person's own greeting, base64 in and out (the driver sees text only). */
export async function saveGreeting(db: Db, tenantId: string, userId: string, contentType: string, audioBase64: string): Promise<void> {
  await db.query(
    `insert into voicemail_greetings (user_id, tenant_id, content_type, audio) values ($1, $2, $3, decode($4, 'base64'))
     on conflict (user_id) do update set content_type = excluded.content_type, audio = excluded.audio, updated_at = now()
      where voicemail_greetings.tenant_id = excluded.tenant_id`,
    [userId, tenantId, contentType, audioBase64],
  );
}

export async function findGreeting(db: Db, tenantId: string, userId: string): Promise<{ contentType: string; audioBase64: string; updatedAt: Date } | null> {
  const { rows } = await db.query<{ content_type: string; audio: string; updated_at: Date }>(
    `select content_type, encode(audio, 'base64') as audio, updated_at from voicemail_greetings where tenant_id = $1 and user_id = $2`,
    [tenantId, userId],
  );
  // Postgres wraps base64 every 76 characters.
  return rows[0] ? { contentType: rows[0].content_type, audioBase64: rows[0].audio.replace(/\s+/g, ''), updatedAt: rows[0].updated_at } : null;
}

export async function deleteGreeting(db: Db, tenantId: string, userId: string): Promise<void> {
  await db.query('delete from voicemail_greetings where tenant_id = $1 and user_id = $2', [tenantId, userId]);
}
