/**
 * The messages of a line: the outside party of a call, placed by the gateway
 * (protocol/src/sip.ts `PSTN_LINE_PREFIX`). A line has no account and no hub: its one call is
 * the one the edge admitted for it (`inbound.ts`), and everything else it says goes straight to
 * that call's session, which checks it is a participant like any device.
 */
import {
  assertNever,
  ErrorCode,
  isSipClientMessage,
  type ClientMessage,
  type ServerMessage,
  type SipClientMessage,
  type SipDevice,
  type SipGatewayNode,
} from '@callstack/protocol';
import { withDb } from '../db/client.ts';
import { findAdmittedInbound } from '../db/pstn.ts';
import { findRingGroup } from '../db/ringGroups.ts';
import { findActiveUser } from '../db/users.ts';
import type { Env } from '../env.ts';
import { actorOf, failure, type Outcome } from '../objects/actor.ts';
import { callSession } from '../objects/stubs.ts';

type Handled = Outcome<{ reply?: ServerMessage }>;

export async function lineMessage(env: Env, line: SipDevice, node: SipGatewayNode, message: ClientMessage): Promise<ServerMessage> {
  const outcome = isSipClientMessage(message) ? await handle(env, line, node, message) : failure(ErrorCode.badRequest, `${message.type} is not for lines`);
  if (!outcome.ok) return { type: 'error', ref: message.ref, code: outcome.code, message: outcome.message };
  return outcome.reply ?? { type: 'ack', ref: message.ref ?? '' };
}

function handle(env: Env, line: SipDevice, node: SipGatewayNode, message: SipClientMessage): Promise<Handled> {
  const actor = actorOf(line);
  switch (message.type) {
    case 'call.invite':
      return place(env, line, node, message);
    case 'call.accept':
    case 'call.reject':
    case 'call.cancel':
    case 'call.hangup':
    case 'call.offer':
    case 'call.answer':
    case 'call.ice':
    case 'call.mute':
      return callSession(env, line.tenantId, message.callId).act(actor, message, node);
    case 'quality.report':
      return message.scope.kind === 'call'
        ? callSession(env, line.tenantId, message.scope.callId).reportQuality(actor, message)
        : Promise.resolve(failure(ErrorCode.badRequest, 'a line is in no room'));
    case 'call.transfer':
      return Promise.resolve(failure(ErrorCode.badRequest, 'a line cannot transfer'));
    default:
      return assertNever(message);
  }
}

/** The line's call: only the one the edge admitted (to that user, from that number), once. */
async function place(env: Env, line: SipDevice, node: SipGatewayNode, invite: Extract<ClientMessage, { type: 'call.invite' }>): Promise<Handled> {
  const found = await withDb(env, async (db) => {
    const admitted = await findAdmittedInbound(db, line.tenantId, invite.callId);
    const callee = admitted && admitted.userId === invite.to ? await findActiveUser(db, line.tenantId, admitted.userId) : null;
    const group = admitted?.ringGroupId ? await findRingGroup(db, line.tenantId, admitted.ringGroupId) : null;
    // The group's other active members, in order (the callee is the one rung first).
    const others = group
      ? (await Promise.all(group.members.filter((id) => id !== callee?.id).map((id) => findActiveUser(db, line.tenantId, id)))).filter((user) => user !== null)
      : [];
    return admitted && callee ? { admitted, callee, group, others } : null;
  });
  if (!found) return failure(ErrorCode.notFound, 'no such call to place');
  const { admitted, callee, group, others } = found;
  return callSession(env, line.tenantId, invite.callId).start({
    callId: invite.callId,
    tenantId: line.tenantId,
    caller: {
      userId: line.userId,
      deviceId: line.deviceId,
      displayName: line.displayName,
      ...(admitted.callerId ? { number: admitted.callerId } : {}),
      via: node,
    },
    callee: { userId: callee.id, displayName: callee.displayName },
    media: { audio: true, video: false },
    record: false,
    ...(admitted.maxDurationSeconds ? { maxDurationSeconds: admitted.maxDurationSeconds } : {}),
    ...(group
      ? {
          ringGroup: {
            strategy: group.strategy,
            memberTimeoutSeconds: group.memberTimeoutSeconds,
            others: others.map((user) => ({ userId: user.id, displayName: user.displayName })),
          },
        }
      : {}),
  });
}
