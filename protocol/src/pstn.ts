/**
 * The public telephone network: a tenant's numbers (DIDs), its calling policy (the toll-fraud
 * guard's settings), the carrier trunks the platform operator configures, and what the edge tells
 * the SIP gateway about a call to or from the outside.
 *
 * Admin REST (tenant admins): `GET/PUT /api/admin/pstn/policy`, `GET/POST /api/admin/numbers`,
 * `PATCH/DELETE /api/admin/numbers/:number`. Trunks are the operator's (`PSTN_TRUNKS`, a secret of
 * the edge): their credentials never leave the edge except towards a gateway placing a call.
 *
 * Outbound (sip.ts `route`): the edge normalises the dialled number to E.164 with the tenant's
 * default country, runs the toll-fraud guard, and answers `pstn` (trunks in failover order, the
 * caller ID, the longest the call may last) or `refused` (a stable reason, the SIP status the phone
 * gets). The gateway reports the call's progress and end (`PstnCallEvent`), which closes the
 * call's slot in the tenant's limits and writes the PSTN call record.
 */
import * as v from 'valibot';
import { Id } from './ids.ts';
import { ShownName } from './api.ts';
import { Text, Verbatim } from './text.ts';

/** ISO 3166-1 alpha-2, upper case (`GB`, `US`). */
export const CountryCode = v.pipe(v.string(), v.regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as GB or US'));
export type CountryCode = v.InferOutput<typeof CountryCode>;

/** A number in E.164: `+`, a country code, at most 15 digits in all. */
export const E164 = v.pipe(v.string(), v.regex(/^\+[1-9]\d{5,14}$/, 'must be a number in E.164 form, such as +442079460958'));
export type E164 = v.InferOutput<typeof E164>;

/** The start of E.164 numbers (`+44 90`), for exceptions to the blocked ranges. */
export const E164Prefix = v.pipe(v.string(), v.regex(/^\+[1-9]\d{0,14}$/, 'must be a + and the leading digits of E.164 numbers'));

/**
 * What a tenant may call, and how much. International calling is closed until an admin opens a
 * country; premium-rate, shared-cost and high-risk ranges stay closed unless a prefix is opened.
 */
export const PstnPolicy = v.object({
  /** How numbers dialled without a `+` are read (and which calls are domestic). */
  defaultCountry: CountryCode,
  /** Countries besides the default one that people may call. */
  internationalCountries: v.pipe(v.array(CountryCode), v.maxLength(250)),
  /** Prefixes opened despite being premium-rate or high-risk (explicit, one by one). */
  allowedPrefixes: v.pipe(v.array(E164Prefix), v.maxLength(100)),
  /** Calls to or from the outside at once, for the whole tenant and for each person. */
  maxConcurrentCalls: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000)),
  maxConcurrentCallsPerUser: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100)),
  /** New outbound calls per second for the tenant, and per minute for each person. */
  maxCallsPerSecond: v.pipe(v.number(), v.minValue(0), v.maxValue(1_000)),
  maxCallsPerMinutePerUser: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000)),
  /** A call is cut after this long. */
  maxCallDurationSeconds: v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(86_400)),
  /** The caller ID of people without a number of their own; null: theirs or none. */
  mainNumber: v.nullable(E164),
});
export type PstnPolicy = v.InferOutput<typeof PstnPolicy>;

/**
 * The caller ID a person's calls to the outside present (`GET/PUT /api/me/caller-id`): their own
 * number, else the tenant's main number, else none; withheld by their choice.
 */
export const CallerIdView = v.object({ number: v.nullable(E164), withheld: v.boolean() });
export type CallerIdView = v.InferOutput<typeof CallerIdView>;
export const UpdateCallerIdRequest = v.object({ withheld: v.boolean() });
export type UpdateCallerIdRequest = v.InferOutput<typeof UpdateCallerIdRequest>;

/**
 * A ring group: people a number rings together (`simultaneous`: all at once, the first to answer
 * takes the call) or one after another (`in-order`: each for `memberTimeoutSeconds`).
 */
export const RingGroupStrategy = v.picklist(['simultaneous', 'in-order']);
export type RingGroupStrategy = v.InferOutput<typeof RingGroupStrategy>;
const MemberTimeoutSeconds = v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(120));
const RingGroupMembers = v.pipe(
  v.array(Id),
  v.minLength(1, 'a ring group needs at least one member'),
  v.maxLength(20),
  v.check((members) => new Set(members).size === members.length, 'each member once'),
);
export const RingGroupView = v.object({
  id: Id,
  name: Text({ min: 1, max: 80 }),
  strategy: RingGroupStrategy,
  /** How long each member rings (in order), or everyone together (simultaneous). */
  memberTimeoutSeconds: MemberTimeoutSeconds,
  /** User ids, in ringing order. */
  members: RingGroupMembers,
});
export type RingGroupView = v.InferOutput<typeof RingGroupView>;
export const RingGroupList = v.object({ groups: v.array(RingGroupView) });
export type RingGroupList = v.InferOutput<typeof RingGroupList>;
export const CreateRingGroupRequest = v.object({
  name: Text({ min: 1, max: 80 }),
  strategy: v.optional(RingGroupStrategy, 'simultaneous'),
  memberTimeoutSeconds: v.optional(MemberTimeoutSeconds, 20),
  members: RingGroupMembers,
});
export type CreateRingGroupRequest = v.InferOutput<typeof CreateRingGroupRequest>;
export const UpdateRingGroupRequest = v.partial(CreateRingGroupRequest);
export type UpdateRingGroupRequest = v.InferOutput<typeof UpdateRingGroupRequest>;

/** Where a tenant's number rings. */
export const NumberRoute = v.variant('kind', [
  v.object({ kind: v.literal('user'), userId: Id }),
  v.object({ kind: v.literal('group'), groupId: Id }),
  /** Another number (inside the tenant or outside): the call is forwarded. */
  v.object({ kind: v.literal('number'), number: E164 }),
  /** Not routed yet: callers hear that the number is not in service. */
  v.object({ kind: v.literal('none') }),
]);
export type NumberRoute = v.InferOutput<typeof NumberRoute>;

export const PhoneNumberView = v.object({
  number: E164,
  label: Text({ max: 80 }),
  route: NumberRoute,
  createdAt: v.string(),
});
export type PhoneNumberView = v.InferOutput<typeof PhoneNumberView>;
export const PhoneNumberList = v.object({ numbers: v.array(PhoneNumberView) });
export type PhoneNumberList = v.InferOutput<typeof PhoneNumberList>;

/** Adding a number: written as the carrier gives it, normalised to E.164 with the policy's country. */
export const AddPhoneNumberRequest = v.object({
  number: Verbatim({ min: 3, max: 32 }),
  label: v.optional(Text({ max: 80 }), ''),
  route: v.optional(NumberRoute, { kind: 'none' }),
});
export type AddPhoneNumberRequest = v.InferOutput<typeof AddPhoneNumberRequest>;
export const UpdatePhoneNumberRequest = v.object({ label: v.optional(Text({ max: 80 })), route: v.optional(NumberRoute) });
export type UpdatePhoneNumberRequest = v.InferOutput<typeof UpdatePhoneNumberRequest>;

// ---- trunks (the operator's) ----------------------------------------------------------------

const Host = v.pipe(v.string(), v.regex(/^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$/, 'must be a host name or IP address'));
const Port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535));
/** The IP address a request came from, as Kamailio gives it (IPv6 without brackets). */
const SourceAddress = v.pipe(v.string(), v.regex(/^[0-9A-Fa-f:.]{2,45}$/, 'must be an IP address'));

/**
 * How the carrier wants the caller ID and the called number: `e164` (`+442079460958`), `digits`
 * (`442079460958`, E.164 without the plus) or `national` (`02079460958`, in the carrier's country).
 */
export const NumberFormat = v.picklist(['e164', 'digits', 'national']);
export type NumberFormat = v.InferOutput<typeof NumberFormat>;

/** One carrier trunk. The order of `PSTN_TRUNKS` is the failover order. */
export const Trunk = v.object({
  id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lower-case id such as carrier-a')),
  /** Where INVITEs go (the carrier's SBC, or an outbound proxy in front of it). */
  host: Host,
  port: v.optional(Port, 5060),
  transport: v.optional(v.picklist(['udp', 'tcp']), 'udp'),
  /** Source addresses the carrier's calls come from: an INVITE from anywhere else is refused. */
  addresses: v.pipe(v.array(Host), v.minLength(1)),
  /** IP-authenticated trunks have none; registering trunks answer the carrier's challenge with these. */
  credentials: v.optional(v.object({ username: Verbatim({ min: 1, max: 128 }), password: Verbatim({ min: 1, max: 256 }) })),
  /** The carrier's country, for the `national` format. */
  country: v.optional(CountryCode, 'US'),
  numberFormat: v.optional(NumberFormat, 'e164'),
  /** Codecs offered to the carrier, in order (rtpengine strips the others). */
  codecs: v.optional(v.array(v.picklist(['PCMU', 'PCMA', 'G722', 'opus'])), ['PCMU', 'PCMA']),
  /** Calls the carrier takes at once on this trunk: beyond it the next trunk is tried. */
  maxChannels: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100),
});
export type Trunk = v.InferOutput<typeof Trunk>;
export const TrunkList = v.pipe(v.array(Trunk), v.maxLength(32));

// ---- the edge and the gateway ---------------------------------------------------------------

/** Why the edge refused a call to the outside: stable codes, shown in the UI and kept in the record. */
export const PstnRefusal = v.picklist([
  'invalid_number',
  'international_closed',
  'premium_blocked',
  'no_trunk',
  'concurrency_limit',
  'rate_limit',
  'pstn_disabled',
  /** Inbound: the number is nobody's on this platform, or routed nowhere yet. */
  'not_in_service',
  /**
   * Billing's `authorize` (billing.ts): the plan has no price for it, its price is above the deck's
   * limit, a spend cap is reached, or an unpaid invoice is past its grace period.
   */
  'no_rate',
  'destination_blocked',
  'spend_cap',
  'payment_overdue',
]);
export type PstnRefusal = v.InferOutput<typeof PstnRefusal>;

/** The caller ID a call to the outside presents; `withheld` asks the carrier to hide it (RFC 3323 Privacy). */
export const PresentedCallerId = v.object({ number: v.nullable(E164), name: ShownName, withheld: v.boolean() });
export type PresentedCallerId = v.InferOutput<typeof PresentedCallerId>;

/** One trunk to try, with the numbers already in the form this carrier wants (`numberFormat`). */
export const TrunkAttempt = v.object({
  ...Trunk.entries,
  /** The request URI's user part. */
  dial: v.pipe(v.string(), v.regex(/^\+?\d{3,16}$/)),
  /** The From user part; null when the caller has no number (the call goes out anonymous). */
  callerIdNumber: v.nullable(v.pipe(v.string(), v.regex(/^\+?\d{3,16}$/))),
});
export type TrunkAttempt = v.InferOutput<typeof TrunkAttempt>;

/** A call the edge admitted to a trunk: the gateway tries `trunks` in order. */
export const PstnRouteAnswer = v.object({
  kind: v.literal('pstn'),
  /** The edge's id of this call: its events and its record. */
  callId: Id,
  destination: E164,
  callerId: PresentedCallerId,
  maxDurationSeconds: v.pipe(v.number(), v.integer(), v.minValue(1)),
  trunks: v.pipe(v.array(TrunkAttempt), v.minLength(1)),
});
export type PstnRouteAnswer = v.InferOutput<typeof PstnRouteAnswer>;

/** A call the edge would not place: the phone gets `sipStatus` with the reason. */
export const RefusedRouteAnswer = v.object({
  kind: v.literal('refused'),
  callId: Id,
  reason: PstnRefusal,
  message: Text({ max: 200 }),
  sipStatus: v.picklist([403, 404, 486, 503]),
});
export type RefusedRouteAnswer = v.InferOutput<typeof RefusedRouteAnswer>;

/**
 * A carrier's call to one of the platform's numbers (`POST /api/sip/pstn/inbound`): the trunk
 * Kamailio recognised by the source address (checked again by the edge), the caller's number
 * and the dialled number (DID) as that carrier writes them.
 */
export const PstnInboundRequest = v.object({
  trunkId: Trunk.entries.id,
  source: SourceAddress,
  /** The From user part (`anonymous` when withheld). */
  from: Verbatim({ max: 64 }),
  fromName: v.optional(Text({ max: 80 })),
  /** The request URI's user part. */
  to: Verbatim({ min: 1, max: 64 }),
});
export type PstnInboundRequest = v.InferOutput<typeof PstnInboundRequest>;

export { SourceAddress };

/**
 * The addresses each trunk's calls come from (`POST /api/sip/trunks`, no credentials): the gateway
 * keeps them to answer Kamailio, which tells carriers from phones by the address of an INVITE.
 */
export const TrunkAddresses = v.object({ trunks: v.array(v.object({ id: Trunk.entries.id, addresses: Trunk.entries.addresses })) });
export type TrunkAddresses = v.InferOutput<typeof TrunkAddresses>;

/** What a gateway tells the edge about a call to the outside, in order; `ended` comes once. */
export const PstnCallEvent = v.variant('event', [
  v.object({ event: v.literal('trunk'), callId: Id, tenantId: Id, trunkId: Trunk.entries.id }),
  v.object({ event: v.literal('ringing'), callId: Id, tenantId: Id, at: v.number() }),
  v.object({ event: v.literal('answered'), callId: Id, tenantId: Id, at: v.number() }),
  v.object({
    event: v.literal('ended'),
    callId: Id,
    tenantId: Id,
    at: v.number(),
    /** The final SIP status of the carrier leg (200 for an answered call). */
    finalStatus: v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(699)),
    /** Who or what ended it: `caller`, `callee`, `max_duration`, `trunk_failed`, `media_failed`. */
    hangupCause: v.picklist(['caller', 'callee', 'max_duration', 'trunk_failed', 'media_failed', 'cancelled', 'declined']),
  }),
  /** An unanswered inbound call went on to voicemail: answered by it at `answeredAt`, over at `endedAt`. */
  v.object({ event: v.literal('voicemail'), callId: Id, tenantId: Id, answeredAt: v.number(), endedAt: v.number() }),
]);
export type PstnCallEvent = v.InferOutput<typeof PstnCallEvent>;

/** A call to or from the outside, as the admin console lists it (`GET /api/admin/pstn/calls`). */
export const PstnCallRecordView = v.object({
  callId: Id,
  userId: v.nullable(Id),
  direction: v.picklist(['outbound', 'inbound']),
  trunkId: v.nullable(v.string()),
  did: v.nullable(v.string()),
  callerId: v.nullable(v.string()),
  destination: v.string(),
  createdAt: v.string(),
  answeredAt: v.nullable(v.string()),
  endedAt: v.nullable(v.string()),
  postDialDelayMs: v.nullable(v.number()),
  finalStatus: v.nullable(v.number()),
  hangupCause: v.nullable(v.string()),
  refusal: v.nullable(PstnRefusal),
  durationMs: v.number(),
});
export type PstnCallRecordView = v.InferOutput<typeof PstnCallRecordView>;
export const PstnCallRecordList = v.object({ calls: v.array(PstnCallRecordView) });
export type PstnCallRecordList = v.InferOutput<typeof PstnCallRecordList>;
