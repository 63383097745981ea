/**
 * What nodes send the edge, both signed with MEDIA_CONTROL_SECRET (the pipeline checks the
 * signature over the raw body): registrations (`POST /api/fleet/nodes`, Stripe-style `t=,v1=` as
 * infra-cdk's agent signs) and media node events (`POST /api/fleet/events`, the control API's
 * `t=,n=,v1=`), each routed to the room's object, which refuses a nonce it has seen (409: a replay).
 */
import { ErrorCode, type MediaNodeEvent, type NodeRegistration } from '@callstack/protocol';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { mediaFleet, roomByObjectId } from '../objects/stubs.ts';
import type { Handler } from '../pipeline.ts';

export const registerNode: Handler<'node_registration', NodeRegistration> = async ({ env, body }) => {
  await mediaFleet(env).register(body);
  return new Response(null, { status: 204 });
};

export const nodeEvent: Handler<'node_event', MediaNodeEvent> = async ({ env, body: event, principal: { nonce } }) => {
  const roomIds = event.type === 'worker.died' ? event.roomIds : [event.roomId];
  const applied = await Promise.all(
    roomIds.map(async (roomId) => {
      const room = roomByObjectId(env, roomId);
      if (!room) {
        log.warn('fleet.event_for_unknown_room', { nodeId: event.nodeId, roomId, type: event.type });
        return true;
      }
      return room.nodeEvent(event, nonce);
    }),
  );
  if (applied.includes(false)) throw new ApiError(ErrorCode.conflict, 'this event was already received (replayed signature)');
  return new Response(null, { status: 204 });
};
