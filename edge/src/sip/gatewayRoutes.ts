/**
 * What the SIP gateway asks of the edge (protocol/src/sip.ts), each request signed with the
 * nodes' secret. Everything a phone may do is decided here and in the user's hub: which account
 * a username is, whom a dialled number reaches (only in the caller's own organisation; anything
 * else is `not_found`, the same answer as for nobody), and every call message.
 */
import {
  ErrorCode,
  isLineId,
  sipDeviceId,
  type ServerMessage,
  type SipCredentialsAnswer,
  type SipCredentialsLookup,
  type SipDevice,
  type SipDeviceMessage,
  type SipRegistration,
  type SipRegistrationAnswer,
  type SipRouteAnswer,
  type SipRouteRequest,
  type SipPstnEvent,
  type SipInboundAnswer,
  type SipInboundRequest,
  type SipTrunksRequest,
  type TrunkAddresses,
} from '@callstack/protocol';
import { config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { findSipAccount, findSipTarget, type SipAccount } from '../db/sipCredentials.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import { pstnGuard, userHub } from '../objects/stubs.ts';
import { chargeEnded } from '../billing/charging.ts';
import { recordPstnProgress, type PstnProgress } from '../db/pstn.ts';
import { decideInbound } from '../pstn/inbound.ts';
import { lineMessage } from '../pstn/lines.ts';
import { decideOutbound, looksLikeNumber } from '../pstn/outbound.ts';
import type { Handler } from '../pipeline.ts';

const NO_ACCOUNT = 'no such SIP account';

export const sipCredentials: Handler<'node_event', SipCredentialsLookup> = async ({ env, body }) => {
  const account = await withDb(env, (db) => findSipAccount(db, body.username));
  if (!account) throw new ApiError(ErrorCode.notFound, NO_ACCOUNT);
  return json({ ha1: account.ha1, realm: account.realm } satisfies SipCredentialsAnswer);
};

export const sipRegistration: Handler<'node_event', SipRegistration> = async ({ env, body, principal }) => {
  const account = await withDb(env, (db) => findSipAccount(db, body.username));
  if (!account) throw new ApiError(ErrorCode.notFound, NO_ACCOUNT);
  const device = deviceOf(account);
  const applied = await userHub(env, device.tenantId, device.userId).sipRegistered(device, body.node, body.contact, body.expires, principal.nonce);
  if (!applied) throw new ApiError(ErrorCode.conflict, 'this registration was already received (replayed signature)');
  return json({ device } satisfies SipRegistrationAnswer);
};

/** A colleague first (extensions are short numbers too), then a number outside through the toll-fraud guard. */
export const sipRoute: Handler<'node_event', SipRouteRequest> = async ({ env, body }) => {
  const found = await withDb(env, async (db) => {
    const account = await findSipAccount(db, body.username);
    const callee = account && (await findSipTarget(db, account.tenantId, body.target));
    return account ? { account, callee } : null;
  });
  if (found?.callee) return json({ kind: 'user', caller: deviceOf(found.account), callee: found.callee } satisfies SipRouteAnswer);
  if (found && looksLikeNumber(body.target)) {
    const { account } = found;
    const decision = await decideOutbound(env, { tenantId: account.tenantId, userId: account.userId, displayName: account.displayName }, body.target);
    if (decision?.kind === 'refused') return json(decision satisfies SipRouteAnswer);
    if (decision) return json({ ...decision, caller: deviceOf(account) } satisfies SipRouteAnswer);
  }
  throw new ApiError(ErrorCode.notFound, 'no such user');
};

/** A call to the outside progressed or ended: its record, and at the end its slot in the tenant's limits. */
export const sipPstnEvent: Handler<'node_event', SipPstnEvent> = async ({ env, body }) => {
  const { event } = body;
  const progress = progressOf(event);
  const open = await withDb(env, (db) => recordPstnProgress(db, event.tenantId, event.callId, progress));
  // Charged before its slot is freed, so its reservation of the spend caps becomes its real cost without a gap.
  if (open && event.event === 'ended') await chargeEnded(env, [event.callId]);
  if (event.event === 'ended') await pstnGuard(env, event.tenantId).release(event.tenantId, event.callId);
  if (!open) throw new ApiError(ErrorCode.notFound, 'no such open call to the outside');
  return json({ ok: true });
};

function progressOf(event: SipPstnEvent['event']): PstnProgress {
  switch (event.event) {
    case 'trunk':
      return { kind: 'trunk', trunkId: event.trunkId };
    case 'ringing':
    case 'answered':
      return { kind: event.event, at: event.at };
    case 'ended':
      return { kind: 'ended', at: event.at, finalStatus: event.finalStatus, hangupCause: event.hangupCause };
    case 'voicemail':
      return { kind: 'voicemail', answeredAt: event.answeredAt, endedAt: event.endedAt };
    default:
      return event satisfies never;
  }
}

/** A carrier's call to a number: whom it rings, placed by the gateway as a line; or refused. */
export const sipInbound: Handler<'node_event', SipInboundRequest> = async ({ env, body }) => json((await decideInbound(env, body)) satisfies SipInboundAnswer);

/** Where the carriers' calls come from: the gateway tells Kamailio which INVITEs without credentials are a carrier's. */
export const sipTrunks: Handler<'node_event', SipTrunksRequest> = ({ env }) =>
  json({ trunks: config(env).pstnTrunks.map(({ id, addresses }) => ({ id, addresses })) } satisfies TrunkAddresses);

/** A call message from a phone's SIP device, or from a line (an outside party the gateway carries). */
export const sipMessage: Handler<'node_event', SipDeviceMessage> = async ({ env, body, principal }) => {
  const { device, node, message } = body;
  if (isLineId(device.deviceId)) {
    if (device.userId !== device.deviceId) throw new ApiError(ErrorCode.forbidden, 'not a line');
    return json(await lineMessage(env, device, node, message));
  }
  if (device.deviceId !== sipDeviceId(device.userId)) throw new ApiError(ErrorCode.forbidden, 'not a SIP device of this user');
  const reply: ServerMessage = await userHub(env, device.tenantId, device.userId).sipMessage(device, node, message, principal.nonce);
  return json(reply);
};

function deviceOf(account: SipAccount): SipDevice {
  return {
    tenantId: account.tenantId,
    userId: account.userId,
    deviceId: sipDeviceId(account.userId),
    displayName: account.displayName,
    username: account.username,
  };
}
