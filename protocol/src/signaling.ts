/**
 * Call signaling over the edge WebSocket (`GET /api/signaling?token=...`).
 *
 * One valibot schema per message; `ClientMessage` and `ServerMessage` are discriminated unions on
 * `type`. Every message a client sends may carry `ref`; the edge answers it with `ack` or `error`
 * carrying the same `ref`, so a client can tell which request failed.
 *
 * Call flow: the caller's device sends `call.invite`; every connected device of the callee gets
 * `call.incoming` and the caller gets `call.ringing`. One callee device sends `call.accept`; the
 * caller's device and the accepting device get `call.accepted`, the callee's other devices get
 * `call.ended` (answered-elsewhere). The caller then sends `call.offer`, the callee `call.answer`,
 * both trickle `call.ice`. Each side tells the other when it mutes or unmutes (`call.mute`), so a
 * 1:1 call can show "Bob is muted". A callee that must offer itself (a SIP phone, see sip.ts) puts its offer
 * in `call.accept`; the caller's `call.accepted` carries it and the caller answers. Either side ends with `call.hangup` (or `call.cancel`/`call.reject`
 * before the answer); both get `call.ended` with the reason.
 *
 * Recorded calls: `call.invite {record: true}` (anyone may ask; the callee's `call.incoming` says
 * `record: true`, so they can reject). Such a call runs through the SFU instead of peer-to-peer:
 * on accept the edge creates a room that only the two parties may join, and both `call.accepted`
 * carry its `roomId`. Both devices join it (`room.*`, see `rooms.ts`) and publish; the room
 * records by itself as soon as something is published (in the caller's name; the recording is
 * linked to the call). No SDP is relayed for it (`call.offer/answer/ice` get `invalid_state`).
 * When the call ends the room closes: everyone still in it leaves and the recording completes.
 *
 * Attended transfer: A talks with B, holds, and calls C (a second call, the consultation; a user
 * may have one call in progress besides a held one). A sends `call.transfer {callId: A-B, to: C,
 * replaces: A-C}`: the A-B call ends `transferred`, and B's `call.ended` names C and `replaces`.
 * B then sends `call.invite {to: C, replaces: A-C}` (within 30 s; only B may), which rings only
 * C's device in the A-C call, with `call.incoming {replaces}`; that device accepts at once and the
 * A-C call ends `transferred`. B and C talk; A is out of both.
 *
 * Conference rooms (`room.*`) travel on the same socket: see `rooms.ts`. During a call or in a
 * room each device sends `quality.report` about every 5 s and gets `quality.update` (the edge's
 * MOS): see `quality.ts`.
 */
import * as v from 'valibot';
import { MAX_SIGNALING_MESSAGE_BYTES, parseFrame, Ping, Pong, Ref, SignalingError, type ParseResult } from './frames.ts';
import { ShownName } from './api.ts';
import { Id } from './ids.ts';
import { E164 } from './pstn.ts';
import { PresenceActivity, PresenceSelf, PresenceSet } from './presence.ts';
import { QualityReport, QualityUpdate } from './quality.ts';
import { RoomClientMessages, RoomServerMessages } from './rooms.ts';
import { Verbatim } from './text.ts';

export { assertNever, describeIssues, MAX_SIGNALING_MESSAGE_BYTES, type ParseResult } from './frames.ts';
const Sdp = Verbatim({ min: 1, max: MAX_SIGNALING_MESSAGE_BYTES });

export const CallMedia = v.object({ audio: v.boolean(), video: v.boolean() });
export type CallMedia = v.InferOutput<typeof CallMedia>;

export const IceCandidate = v.object({
  candidate: Verbatim({ max: 1024 }),
  sdpMid: v.nullish(Verbatim({ max: 64 })),
  sdpMLineIndex: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(64))),
  usernameFragment: v.nullish(Verbatim({ max: 256 })),
});
export type IceCandidate = v.InferOutput<typeof IceCandidate>;

// ---- client -> edge ------------------------------------------------------------------------

const CallInvite = v.object({
  type: v.literal('call.invite'),
  ref: Ref,
  callId: Id,
  to: Id,
  media: CallMedia,
  /** Record the call (absent: no): it then runs through the SFU (see the header). */
  record: v.optional(v.boolean()),
  /** Attended transfer: the call of the callee's that this one takes over (from `call.ended.replaces`). */
  replaces: v.optional(Id),
});
/**
 * A call to a phone number (the keypad, a contact's external number): the edge reads it in the
 * tenant's country, runs the toll-fraud guard and places it through the carrier trunks; the other
 * party is then a line (sip.ts). Browsers only; a phone dials numbers in its INVITE.
 */
const CallDial = v.object({
  type: v.literal('call.dial'),
  ref: Ref,
  callId: Id,
  /** As typed: `+44 20 7946 0958`, `020 7946 0958`, `00 44 ...`. */
  number: Verbatim({ min: 1, max: 32 }),
  media: CallMedia,
});
const CallAccept = v.object({
  type: v.literal('call.accept'),
  ref: Ref,
  callId: Id,
  /**
   * The answering device's own SDP offer (a desk phone's 200 OK carries one): the caller then
   * answers it instead of making the offer. Browsers leave it out.
   */
  sdp: v.optional(Sdp),
});
/** The SIP final status behind an end, when a SIP device reports one (a phone's 486, the caller's CANCEL): kept in the CDR. */
const SipStatus = v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(699)));
const CallReject = v.object({ type: v.literal('call.reject'), ref: Ref, callId: Id, sipStatus: SipStatus });
const CallCancel = v.object({ type: v.literal('call.cancel'), ref: Ref, callId: Id, sipStatus: SipStatus });
const CallHangup = v.object({ type: v.literal('call.hangup'), ref: Ref, callId: Id, sipStatus: SipStatus });
/**
 * Transfer (a phone's REFER, or the softphone): the other party is asked to call `to`, and this
 * call ends `transferred`. Blind without `replaces`. Attended with it: `replaces` is the sender's
 * consultation call with `to`, which the other party's new call takes over (see the header).
 */
const CallTransfer = v.object({ type: v.literal('call.transfer'), ref: Ref, callId: Id, to: Id, replaces: v.optional(Id) });
const CallOffer = v.object({ type: v.literal('call.offer'), ref: Ref, callId: Id, sdp: Sdp });
const CallAnswer = v.object({ type: v.literal('call.answer'), ref: Ref, callId: Id, sdp: Sdp });
const CallIce = v.object({
  type: v.literal('call.ice'),
  ref: Ref,
  callId: Id,
  candidate: IceCandidate,
});
/** This side's microphone went off (or on again): relayed to the other side of an answered call. */
const CallMute = v.object({ type: v.literal('call.mute'), ref: Ref, callId: Id, muted: v.boolean() });
export const ClientMessage = v.variant('type', [
  CallInvite,
  CallDial,
  CallAccept,
  CallReject,
  CallCancel,
  CallHangup,
  CallTransfer,
  CallOffer,
  CallAnswer,
  CallIce,
  CallMute,
  Ping,
  PresenceSet,
  PresenceActivity,
  QualityReport,
  ...RoomClientMessages,
]);
export type ClientMessage = v.InferOutput<typeof ClientMessage>;
/** Room requests, which the user's hub hands to the room's object. */
export type RoomClientMessage = Extract<ClientMessage, { type: `room.${string}` }>;

// ---- edge -> client ------------------------------------------------------------------------

/**
 * Someone in a call. An outside party (a caller from the phone network, a number dialled) has its
 * `number`, and a line's id as its user id (sip.ts `PSTN_LINE_PREFIX`): it is nobody's account.
 */
export const Party = v.object({ userId: Id, displayName: ShownName, number: v.optional(E164) });
export type Party = v.InferOutput<typeof Party>;

export const EndReason = v.picklist([
  'hangup',
  'rejected',
  'cancelled',
  'busy',
  'no-answer',
  'unavailable',
  'answered-elsewhere',
  'connection-lost',
  'failed',
  'transferred',
  /** The call reached the longest a call to the outside may last (the tenant's calling policy). */
  'max-duration',
]);
export type EndReason = v.InferOutput<typeof EndReason>;

const Hello = v.object({
  type: v.literal('hello'),
  userId: Id,
  deviceId: Id,
  /** Calls this user is part of right now, so a reconnecting device can resume. */
  activeCalls: v.array(v.object({ callId: Id, state: v.picklist(['ringing', 'active']) })),
});
const CallIncoming = v.object({
  type: v.literal('call.incoming'),
  callId: Id,
  from: Party,
  media: CallMedia,
  /** The call will be recorded if accepted (absent: no): tell the user before they answer. */
  record: v.optional(v.boolean()),
  /**
   * Attended transfer: this call takes over that call of this device's (only that device rings).
   * The user agreed in that call: accept at once, and leave that call to end by itself.
   */
  replaces: v.optional(Id),
});
const CallRinging = v.object({ type: v.literal('call.ringing'), callId: Id, to: Party });
const CallAccepted = v.object({
  type: v.literal('call.accepted'),
  callId: Id,
  /** What the receiving device must do next: the caller makes the SDP offer. */
  role: v.picklist(['caller', 'callee']),
  peer: Party,
  answeredAt: v.number(),
  /** A recorded call's room: join it instead of negotiating SDP (absent for peer-to-peer calls). */
  roomId: v.optional(Id),
  /** To the caller, when the callee offered (`call.accept {sdp}`): answer this instead of offering. */
  sdp: v.optional(Sdp),
});
const CallEnded = v.object({
  type: v.literal('call.ended'),
  callId: Id,
  reason: EndReason,
  /** Talk time in milliseconds; 0 when the call was never answered. */
  durationMs: v.number(),
  /** To the party being transferred (reason `transferred`): call this colleague now. */
  transferTo: v.optional(Party),
  /** With `transferTo` after an attended transfer: put it in that `call.invite` (the call it takes over). */
  replaces: v.optional(Id),
});
const RelayedOffer = v.object({ type: v.literal('call.offer'), callId: Id, sdp: Sdp });
const RelayedAnswer = v.object({ type: v.literal('call.answer'), callId: Id, sdp: Sdp });
const RelayedIce = v.object({ type: v.literal('call.ice'), callId: Id, candidate: IceCandidate });
const RelayedMute = v.object({ type: v.literal('call.mute'), callId: Id, muted: v.boolean() });
const Ack = v.object({ type: v.literal('ack'), ref: v.string() });

export const ServerMessage = v.variant('type', [
  Hello,
  CallIncoming,
  CallRinging,
  CallAccepted,
  CallEnded,
  RelayedOffer,
  RelayedAnswer,
  RelayedIce,
  RelayedMute,
  Ack,
  Pong,
  SignalingError,
  PresenceSelf,
  QualityUpdate,
  ...RoomServerMessages,
]);
export type ServerMessage = v.InferOutput<typeof ServerMessage>;

/** Parses one raw frame from a client: size, JSON, then schema. Never throws. */
export function parseClientMessage(raw: string | ArrayBuffer): ParseResult<ClientMessage> {
  return parseFrame(raw, ClientMessage);
}

/** Parses one raw frame from the edge (the web app validates what it receives too). */
export function parseServerMessage(raw: string | ArrayBuffer): ParseResult<ServerMessage> {
  return parseFrame(raw, ServerMessage);
}
