/**
 * The SIP gateway (sip-edge/) and the edge. The gateway is a B2BUA: to the edge each SIP account
 * is one more device of its user, speaking the same call messages as a browser (signaling.ts),
 * carried over signed HTTP instead of a WebSocket. Both directions are signed like the media
 * control API (controlSignature.ts, the nodes' shared secret) and replay-protected by nonce.
 *
 * gateway -> edge (`/api/sip/...`):
 *   - `credentials`   Kamailio's digest check needs the account's HA1 (through the gateway, which signs)
 *   - `registrations` a phone registered (or unregistered, `expires: 0`): the user gains a device
 *   - `route`         where a call from a phone goes: the caller's device and the callee, or a
 *                     number outside (admitted to trunks, or refused: pstn.ts)
 *   - `pstn/events`   a call to the outside progressed or ended (its record, its slot in the limits)
 *   - `pstn/inbound`  a carrier's call to a number: whom it rings (and the line that places it), or refused
 *   - `trunks`        the addresses the carrier trunks send from (the gateway answers Kamailio from them)
 *   - `voicemail`     a message an outside caller left (voicemail.ts)
 *   - `messages`      a client message from a SIP device (`call.invite`, `call.accept`, ...);
 *                     answered with what a socket would get back (`ack` or `error`)
 * edge -> gateway (`POST {controlUrl}/devices/messages`): a server message for a SIP device
 *   (`call.incoming`, `call.accepted`, `call.ended`, relayed SDP).
 *
 * The edge decides everything (who the caller is, whether the target exists in the caller's
 * organisation, busy, ringing every device); the gateway carries it out on SIP.
 */
import * as v from 'valibot';
import { Id } from './ids.ts';
import { ShownName } from './api.ts';
import { PstnCallEvent, PstnInboundRequest, PstnRouteAnswer, RefusedRouteAnswer } from './pstn.ts';
import { ClientMessage, Party, ServerMessage, type EndReason } from './signaling.ts';
import { Text, Verbatim } from './text.ts';
import { VoicemailDeposit, VoicemailRecorded } from './voicemail.ts';

export const SIP_DEVICE_MESSAGES_PATH = '/devices/messages';

/** SIP usernames the edge issues (`u` + 11 characters) and what a phone may type: no separators, no spaces. */
export const SipUsername = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[A-Za-z0-9._~+-]+$/));

/** Which gateway a device is reached through: the edge posts its messages to `controlUrl`. */
export const SipGatewayNode = v.object({
  nodeId: v.pipe(Verbatim({ min: 1, max: 128 }), v.regex(/^[A-Za-z0-9_.-]+$/)),
  controlUrl: v.pipe(Verbatim({ max: 256 }), v.url()),
});
export type SipGatewayNode = v.InferOutput<typeof SipGatewayNode>;

/** SIP devices' ids: `sip-<userId>`, one per account, whichever of its phones is in use. */
export const SIP_DEVICE_PREFIX = 'sip-';

export function sipDeviceId(userId: string): string {
  return `${SIP_DEVICE_PREFIX}${userId}`;
}

/** A SIP account as a device of its user. `deviceId` is the same for every phone of the account. */
export const SipDevice = v.object({ tenantId: Id, userId: Id, deviceId: Id, displayName: ShownName, username: SipUsername });
export type SipDevice = v.InferOutput<typeof SipDevice>;

export const SipCredentialsLookup = v.object({ username: SipUsername });
export type SipCredentialsLookup = v.InferOutput<typeof SipCredentialsLookup>;
export const SipCredentialsAnswer = v.object({ ha1: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)), realm: v.string() });
export type SipCredentialsAnswer = v.InferOutput<typeof SipCredentialsAnswer>;

/** A Contact of an account's registrations; `*` (an unregistration of them all) stands for every one. */
export const SipContact = Verbatim({ min: 1, max: 512 });
export const ALL_SIP_CONTACTS = '*';

/**
 * What one REGISTER (or an expiry) did to one Contact of an account. An account may have several
 * (a desk phone and a soft client, or a phone's old binding still lapsing): it stays registered
 * while any of them does.
 */
export const SipRegistration = v.object({
  node: SipGatewayNode,
  username: SipUsername,
  contact: SipContact,
  /** Seconds the registrar granted this Contact; 0 when it was removed or expired. */
  expires: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400)),
  userAgent: v.optional(Text({ max: 256 })),
});
export type SipRegistration = v.InferOutput<typeof SipRegistration>;
export const SipRegistrationAnswer = v.object({ device: SipDevice });
export type SipRegistrationAnswer = v.InferOutput<typeof SipRegistrationAnswer>;

export const SipRouteRequest = v.object({
  node: SipGatewayNode,
  /** The authenticated caller (Kamailio's `X-CallStack-User`). */
  username: SipUsername,
  /** The user part of the request URI: an extension, a colleague's SIP username or user id. */
  target: Verbatim({ min: 1, max: 128 }),
});
export type SipRouteRequest = v.InferOutput<typeof SipRouteRequest>;
/**
 * A user of the caller's organisation (any other target inside is `not_found`, the same as an
 * unknown one), or a number outside (pstn.ts): admitted to trunks, or refused with the reason.
 */
export const SipUserRoute = v.object({ kind: v.literal('user'), caller: SipDevice, callee: v.object({ userId: Id, displayName: ShownName }) });
export type SipUserRoute = v.InferOutput<typeof SipUserRoute>;
export const SipPstnRoute = v.object({ ...PstnRouteAnswer.entries, caller: SipDevice });
export type SipPstnRoute = v.InferOutput<typeof SipPstnRoute>;
export const SipRouteAnswer = v.variant('kind', [SipUserRoute, SipPstnRoute, RefusedRouteAnswer]);
export type SipRouteAnswer = v.InferOutput<typeof SipRouteAnswer>;

/**
 * Lines: the outside party of a call, carried by a gateway (a caller from the phone network). To
 * the edge's call a line is one more SIP device, `pstn-<random>` as both its user and its device
 * id, speaking the call messages through `messages` like a phone; it belongs to no account, and
 * a line may only place the call the edge admitted for it (`pstn/inbound`).
 */
export const PSTN_LINE_PREFIX = 'pstn-';

export function isLineId(id: string): boolean {
  return id.startsWith(PSTN_LINE_PREFIX);
}

/** A fresh line's id (its user and device id alike). */
export function newLineId(): string {
  return `${PSTN_LINE_PREFIX}${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`;
}

/** A line as the gateway knows it: a SIP device of no account, whose ids (and username) are the line's. */
export function lineDevice(tenantId: string, lineId: string, displayName: string): SipDevice {
  return { tenantId, userId: lineId, deviceId: lineId, displayName, username: lineId };
}

export const SipInboundRequest = v.object({ node: SipGatewayNode, ...PstnInboundRequest.entries });
export type SipInboundRequest = v.InferOutput<typeof SipInboundRequest>;
/** Ring this user: the gateway places the call as `line` (its `call.invite` with this `callId`). */
export const SipInboundUserRoute = v.object({ kind: v.literal('user'), callId: Id, line: SipDevice, callee: Party });
export type SipInboundUserRoute = v.InferOutput<typeof SipInboundUserRoute>;
/**
 * The number forwards to another number: the gateway bridges the carrier's call to the trunks, as
 * it does a phone's call out (`TrunkCall`), as the line `line`; `callId` is the call's record.
 */
export const SipInboundForwardRoute = v.object({ ...PstnRouteAnswer.entries, kind: v.literal('forward'), line: SipDevice });
export type SipInboundForwardRoute = v.InferOutput<typeof SipInboundForwardRoute>;
export const SipInboundAnswer = v.variant('kind', [SipInboundUserRoute, SipInboundForwardRoute, RefusedRouteAnswer]);
export type SipInboundAnswer = v.InferOutput<typeof SipInboundAnswer>;

export const SipTrunksRequest = v.object({ node: SipGatewayNode });
export type SipTrunksRequest = v.InferOutput<typeof SipTrunksRequest>;

/** The final response to an INVITE (a phone's, a carrier's) when the call ended before it was answered (RFC 3261 §21). */
export function sipStatusForEndReason(reason: EndReason): number {
  switch (reason) {
    case 'busy':
      return 486;
    case 'rejected':
      return 603;
    case 'no-answer':
    case 'unavailable':
    case 'connection-lost':
      return 480;
    case 'max-duration':
      return 200;
    case 'cancelled':
    case 'hangup':
    case 'answered-elsewhere':
    case 'transferred':
      return 487;
    case 'failed':
      return 500;
    default:
      return reason satisfies never;
  }
}

/** A gateway's report on a call to the outside (`POST /api/sip/pstn/events`). */
export const SipPstnEvent = v.object({ node: SipGatewayNode, event: PstnCallEvent });
export type SipPstnEvent = v.InferOutput<typeof SipPstnEvent>;

/** A gateway's report of a message an outside caller left (`POST /api/sip/voicemail`). */
export const SipVoicemailReport = v.object({ node: SipGatewayNode, voicemail: VoicemailRecorded });
export type SipVoicemailReport = v.InferOutput<typeof SipVoicemailReport>;

export const SipGreetingRequest = v.object({ node: SipGatewayNode, tenantId: Id, userId: Id });
export type SipGreetingRequest = v.InferOutput<typeof SipGreetingRequest>;

/** The messages a SIP device (or line) may send: calls and their quality; rooms and presence are the web app's. */
export type SipClientMessage = Exclude<Extract<ClientMessage, { type: `call.${string}` | 'quality.report' }>, { type: 'call.dial' }>;

export function isSipClientMessage(message: ClientMessage): message is SipClientMessage {
  return (message.type.startsWith('call.') && message.type !== 'call.dial') || message.type === 'quality.report';
}

export const SipDeviceMessage = v.object({ node: SipGatewayNode, device: SipDevice, message: ClientMessage });
export type SipDeviceMessage = v.InferOutput<typeof SipDeviceMessage>;

/**
 * What the edge posts to the gateway for one device. A line's `call.incoming` (a browser dialled a
 * number) carries the edge's decision: the trunks to try, the caller ID, the longest it may last.
 * A line's `call.ended` may carry `voicemail`: the outside caller leaves a message (voicemail.ts).
 */
export const SipDelivery = v.object({
  device: SipDevice,
  message: ServerMessage,
  pstn: v.optional(PstnRouteAnswer),
  voicemail: v.optional(VoicemailDeposit),
});
export type SipDelivery = v.InferOutput<typeof SipDelivery>;
