/**
 * A tenant's calling policy, its numbers and the records of its calls to and from the outside
 * (migrations/0010_pstn.sql). Every statement is scoped by tenant: another tenant's number is
 * `not_found` here, the same as none.
 */
import type { E164, NumberRoute, PhoneNumberView, PstnCallRecordView, PstnPolicy, PstnRefusal } from '@callstack/protocol';
import type { Db } from './client.ts';

interface PolicyRow {
  default_country: string;
  international_countries: string[];
  allowed_prefixes: string[];
  max_concurrent_calls: number;
  max_concurrent_calls_per_user: number;
  max_calls_per_second: number;
  max_calls_per_minute_per_user: number;
  max_call_duration_seconds: number;
  main_number: string | null;
}

/** The tenant's saved policy; null until an admin saved one (the defaults apply: pstn/policy.ts). */
export async function findPstnPolicy(db: Db, tenantId: string): Promise<PstnPolicy | null> {
  const { rows } = await db.query<PolicyRow>(
    `select default_country, international_countries, allowed_prefixes, max_concurrent_calls, max_concurrent_calls_per_user,
            max_calls_per_second, max_calls_per_minute_per_user, max_call_duration_seconds, main_number
       from pstn_policies where tenant_id = $1`,
    [tenantId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    defaultCountry: row.default_country,
    internationalCountries: row.international_countries,
    allowedPrefixes: row.allowed_prefixes,
    maxConcurrentCalls: row.max_concurrent_calls,
    maxConcurrentCallsPerUser: row.max_concurrent_calls_per_user,
    maxCallsPerSecond: Number(row.max_calls_per_second),
    maxCallsPerMinutePerUser: row.max_calls_per_minute_per_user,
    maxCallDurationSeconds: row.max_call_duration_seconds,
    mainNumber: row.main_number as E164 | null,
  };
}

export async function savePstnPolicy(db: Db, tenantId: string, policy: PstnPolicy): Promise<void> {
  await db.query(
    `insert into pstn_policies (tenant_id, default_country, international_countries, allowed_prefixes, max_concurrent_calls,
                                max_concurrent_calls_per_user, max_calls_per_second, max_calls_per_minute_per_user,
                                max_call_duration_seconds, main_number)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (tenant_id) do update set
       default_country = excluded.default_country, international_countries = excluded.international_countries,
       allowed_prefixes = excluded.allowed_prefixes, max_concurrent_calls = excluded.max_concurrent_calls,
       max_concurrent_calls_per_user = excluded.max_concurrent_calls_per_user, max_calls_per_second = excluded.max_calls_per_second,
       max_calls_per_minute_per_user = excluded.max_calls_per_minute_per_user,
       max_call_duration_seconds = excluded.max_call_duration_seconds, main_number = excluded.main_number, updated_at = now()`,
    [
      tenantId,
      policy.defaultCountry,
      policy.internationalCountries,
      policy.allowedPrefixes,
      policy.maxConcurrentCalls,
      policy.maxConcurrentCallsPerUser,
      policy.maxCallsPerSecond,
      policy.maxCallsPerMinutePerUser,
      policy.maxCallDurationSeconds,
      policy.mainNumber,
    ],
  );
}

interface NumberRow {
  number: string;
  label: string;
  route_kind: NumberRoute['kind'];
  route_user_id: string | null;
  route_number: string | null;
  route_group_id: string | null;
  created_at: Date;
}

const NUMBER_COLUMNS = 'number, label, route_kind, route_user_id, route_number, route_group_id, created_at';

export async function listPhoneNumbers(db: Db, tenantId: string): Promise<PhoneNumberView[]> {
  const { rows } = await db.query<NumberRow>(`select ${NUMBER_COLUMNS} from phone_numbers where tenant_id = $1 order by number`, [tenantId]);
  return rows.map(toNumberView);
}

export async function findPhoneNumber(db: Db, tenantId: string, number: string): Promise<PhoneNumberView | null> {
  const { rows } = await db.query<NumberRow>(`select ${NUMBER_COLUMNS} from phone_numbers where tenant_id = $1 and number = $2`, [tenantId, number]);
  return rows[0] ? toNumberView(rows[0]) : null;
}

/** Whose a number is, on the whole platform (a carrier's call names only the number): null when nobody's. */
export async function findNumberOwner(db: Db, number: E164): Promise<{ tenantId: string; route: NumberRoute } | null> {
  const { rows } = await db.query<NumberRow & { tenant_id: string }>(`select tenant_id, ${NUMBER_COLUMNS} from phone_numbers where number = $1`, [number]);
  return rows[0] ? { tenantId: rows[0].tenant_id, route: toNumberView(rows[0]).route } : null;
}

/** Null when the number is already on the platform (this tenant's or another's: the answer is the same). */
export async function addPhoneNumber(db: Db, tenantId: string, number: E164, label: string, route: NumberRoute): Promise<PhoneNumberView | null> {
  const { rows } = await db.query<NumberRow>(
    `insert into phone_numbers (number, tenant_id, label, route_kind, route_user_id, route_number, route_group_id) values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (number) do nothing returning ${NUMBER_COLUMNS}`,
    [number, tenantId, label, ...routeColumns(route)],
  );
  return rows[0] ? toNumberView(rows[0]) : null;
}

export async function updatePhoneNumber(
  db: Db,
  tenantId: string,
  number: string,
  change: { label?: string; route?: NumberRoute },
): Promise<PhoneNumberView | null> {
  const route = change.route ? routeColumns(change.route) : [null, null, null, null];
  const { rows } = await db.query<NumberRow>(
    `update phone_numbers set label = coalesce($3, label),
            route_kind = coalesce($4, route_kind),
            route_user_id = case when $4::text is null then route_user_id else $5 end,
            route_number = case when $4::text is null then route_number else $6 end,
            route_group_id = case when $4::text is null then route_group_id else $7 end
      where tenant_id = $1 and number = $2 returning ${NUMBER_COLUMNS}`,
    [tenantId, number, change.label ?? null, ...route],
  );
  return rows[0] ? toNumberView(rows[0]) : null;
}

export async function deletePhoneNumber(db: Db, tenantId: string, number: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from phone_numbers where tenant_id = $1 and number = $2', [tenantId, number]);
  return (rowCount ?? 0) > 0;
}

/** The user's own number (the first routed to them), their outbound caller ID, and whether they withhold it. */
export async function callerIdOf(db: Db, tenantId: string, userId: string): Promise<{ ownNumber: E164 | null; withheld: boolean }> {
  const { rows } = await db.query<{ number: string | null; withhold_caller_id: boolean }>(
    `select (select number from phone_numbers n where n.tenant_id = u.tenant_id and n.route_kind = 'user' and n.route_user_id = u.id
              order by n.created_at, n.number limit 1) as number,
            u.withhold_caller_id
       from users u where u.tenant_id = $1 and u.id = $2`,
    [tenantId, userId],
  );
  return { ownNumber: (rows[0]?.number as E164 | null | undefined) ?? null, withheld: rows[0]?.withhold_caller_id ?? false };
}

export async function setCallerIdWithheld(db: Db, tenantId: string, userId: string, withheld: boolean): Promise<void> {
  await db.query('update users set withhold_caller_id = $3 where tenant_id = $1 and id = $2', [tenantId, userId, withheld]);
}

function routeColumns(route: NumberRoute): [string, string | null, string | null, string | null] {
  switch (route.kind) {
    case 'user':
      return ['user', route.userId, null, null];
    case 'group':
      return ['group', null, null, route.groupId];
    case 'number':
      return ['number', null, route.number, null];
    case 'none':
      return ['none', null, null, null];
    default:
      return route satisfies never;
  }
}

function toNumberView(row: NumberRow): PhoneNumberView {
  const route: NumberRoute =
    row.route_kind === 'user'
      ? { kind: 'user', userId: row.route_user_id! }
      : row.route_kind === 'group'
        ? { kind: 'group', groupId: row.route_group_id! }
        : row.route_kind === 'number'
          ? { kind: 'number', number: row.route_number! as E164 }
          : { kind: 'none' };
  return { number: row.number as E164, label: row.label, route, createdAt: new Date(row.created_at).toISOString() };
}

// ---- records --------------------------------------------------------------------------------

export interface NewPstnRecord {
  callId: string;
  tenantId: string;
  userId: string | null;
  direction: 'outbound' | 'inbound';
  /** Known at once for an inbound call (the one it came from); an outbound one's is reported as tried. */
  trunkId?: string;
  did: string | null;
  callerId: string | null;
  destination: string;
  createdAt: number;
  refusal: PstnRefusal | null;
  maxDurationSeconds: number | null;
  /** An inbound call to a ring group (`userId` is the member rung first). */
  ringGroupId?: string;
}

/** The record is written when the edge decides; a refused call's is complete at once. Idempotent. */
export async function insertPstnRecord(db: Db, record: NewPstnRecord): Promise<void> {
  await db.query(
    `insert into pstn_call_records (call_id, tenant_id, user_id, direction, did, caller_id, destination, created_at, refusal,
                                    max_duration_seconds, trunk_id, ended_at, ring_group_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::text, $10, $11, case when $9::text is null then null else $8::timestamptz end, $12)
     on conflict (call_id) do nothing`,
    [
      record.callId,
      record.tenantId,
      record.userId,
      record.direction,
      record.did,
      record.callerId,
      record.destination,
      new Date(record.createdAt),
      record.refusal,
      record.maxDurationSeconds,
      record.trunkId ?? null,
      record.ringGroupId ?? null,
    ],
  );
}

/** An inbound call the edge admitted and that has not rung yet: whom it is for and from which number. */
export async function findAdmittedInbound(
  db: Db,
  tenantId: string,
  callId: string,
): Promise<{ userId: string; callerId: E164 | null; maxDurationSeconds: number | null; ringGroupId: string | null } | null> {
  const { rows } = await db.query<{ user_id: string; caller_id: string | null; max_duration_seconds: number | null; ring_group_id: string | null }>(
    `select user_id, caller_id, max_duration_seconds, ring_group_id from pstn_call_records
      where tenant_id = $1 and call_id = $2 and direction = 'inbound' and refusal is null and ended_at is null and answered_at is null
        and user_id is not null`,
    [tenantId, callId],
  );
  const row = rows[0];
  return row
    ? { userId: row.user_id, callerId: row.caller_id as E164 | null, maxDurationSeconds: row.max_duration_seconds, ringGroupId: row.ring_group_id }
    : null;
}

/** What the user calls this number in their contacts; null when it is not there. */
export async function contactNameFor(db: Db, tenantId: string, ownerId: string, number: E164): Promise<string | null> {
  const { rows } = await db.query<{ display_name: string }>(
    'select display_name from contacts where tenant_id = $1 and owner_id = $2 and phone_e164 = $3 limit 1',
    [tenantId, ownerId, number],
  );
  return rows[0]?.display_name ?? null;
}

export type PstnProgress =
  | { kind: 'trunk'; trunkId: string }
  | { kind: 'ringing'; at: number }
  /** `userId`: who answered an inbound call (a ring group's member), when the record should say so. */
  | { kind: 'answered'; at: number; userId?: string }
  | { kind: 'ended'; at: number; finalStatus: number; hangupCause: string }
  | { kind: 'voicemail'; answeredAt: number; endedAt: number };

/**
 * One step of a call the gateway reports. Each only fills what is still empty (an event sent twice
 * changes nothing); the end is taken once. Answers whether the call was this tenant's and still open.
 */
export async function recordPstnProgress(db: Db, tenantId: string, callId: string, progress: PstnProgress): Promise<boolean> {
  const open = 'tenant_id = $1 and call_id = $2 and ended_at is null';
  let result;
  switch (progress.kind) {
    case 'trunk':
      result = await db.query(`update pstn_call_records set trunk_id = $3 where ${open}`, [tenantId, callId, progress.trunkId]);
      break;
    case 'ringing':
      result = await db.query(
        `update pstn_call_records set post_dial_delay_ms = greatest(0, round(extract(epoch from ($3::timestamptz - created_at)) * 1000))
          where ${open} and post_dial_delay_ms is null`,
        [tenantId, callId, new Date(progress.at)],
      );
      break;
    case 'answered':
      result = await db.query(`update pstn_call_records set answered_at = $3, user_id = coalesce($4, user_id) where ${open} and answered_at is null`, [
        tenantId,
        callId,
        new Date(progress.at),
        progress.userId ?? null,
      ]);
      break;
    case 'ended':
      result = await db.query(
        `update pstn_call_records set ended_at = greatest($3::timestamptz, created_at), final_status = $4, hangup_cause = $5,
                duration_ms = case when answered_at is null then 0
                                   else greatest(0, round(extract(epoch from ($3::timestamptz - answered_at)) * 1000)) end
          where ${open}`,
        [tenantId, callId, new Date(progress.at), progress.finalStatus, progress.hangupCause],
      );
      break;
    case 'voicemail':
      // Amends an inbound call that ended unanswered (or whose end is not written yet): voicemail answered it.
      result = await db.query(
        `update pstn_call_records set answered_at = $3, ended_at = $4, final_status = 200, hangup_cause = 'voicemail',
                duration_ms = greatest(0, round(extract(epoch from ($4::timestamptz - $3::timestamptz)) * 1000))
          where tenant_id = $1 and call_id = $2 and direction = 'inbound' and refusal is null and answered_at is null
            and (ended_at is null or hangup_cause = any($5::text[]))`,
        [tenantId, callId, new Date(progress.answeredAt), new Date(Math.max(progress.endedAt, progress.answeredAt)), [...UNANSWERED_ENDS]],
      );
      break;
    default:
      return progress satisfies never;
  }
  return (result.rowCount ?? 0) > 0;
}

/** The ends of an inbound call after which its caller may leave a message (voicemail/handOff.ts). */
export const UNANSWERED_ENDS: ReadonlySet<string> = new Set(['no-answer', 'busy', 'rejected', 'unavailable']);

/** How a call with an outside party that the edge carried as a call (a line) ended: its record's last steps. */
export interface PstnEnd {
  kind: 'pstn';
  callId: string;
  tenantId: string;
  ringingAt: number | null;
  answeredAt: number | null;
  endedAt: number;
  finalStatus: number;
  /** The call's end reason (signaling.ts `EndReason`). */
  hangupCause: string;
  /** The person who answered a call from the outside (of a ring group, the member who took it). */
  answeredBy?: string;
}

/** Idempotent, like each step: a record already ended is left as it is. */
export async function completePstnRecord(db: Db, end: PstnEnd): Promise<void> {
  const { tenantId, callId } = end;
  if (end.ringingAt !== null) await recordPstnProgress(db, tenantId, callId, { kind: 'ringing', at: end.ringingAt });
  if (end.answeredAt !== null)
    await recordPstnProgress(db, tenantId, callId, { kind: 'answered', at: end.answeredAt, ...(end.answeredBy ? { userId: end.answeredBy } : {}) });
  await recordPstnProgress(db, tenantId, callId, { kind: 'ended', at: end.endedAt, finalStatus: end.finalStatus, hangupCause: end.hangupCause });
}

interface RecordRow {
  call_id: string;
  user_id: string | null;
  direction: 'outbound' | 'inbound';
  trunk_id: string | null;
  did: string | null;
  caller_id: string | null;
  destination: string;
  created_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  post_dial_delay_ms: number | null;
  final_status: number | null;
  hangup_cause: string | null;
  refusal: PstnRefusal | null;
  duration_ms: number;
}

/** The tenant's calls to and from the outside, newest first. */
export async function listPstnRecords(db: Db, tenantId: string, limit: number): Promise<PstnCallRecordView[]> {
  const { rows } = await db.query<RecordRow>(
    `select call_id, user_id, direction, trunk_id, did, caller_id, destination, created_at, answered_at, ended_at, post_dial_delay_ms,
            final_status, hangup_cause, refusal, duration_ms
       from pstn_call_records where tenant_id = $1 order by created_at desc, call_id limit $2`,
    [tenantId, limit],
  );
  const iso = (date: Date | null) => (date === null ? null : new Date(date).toISOString());
  return rows.map((row) => ({
    callId: row.call_id,
    userId: row.user_id,
    direction: row.direction,
    trunkId: row.trunk_id,
    did: row.did,
    callerId: row.caller_id,
    destination: row.destination,
    createdAt: new Date(row.created_at).toISOString(),
    answeredAt: iso(row.answered_at),
    endedAt: iso(row.ended_at),
    postDialDelayMs: row.post_dial_delay_ms,
    finalStatus: row.final_status,
    hangupCause: row.hangup_cause,
    refusal: row.refusal,
    durationMs: row.duration_ms,
  }));
}
