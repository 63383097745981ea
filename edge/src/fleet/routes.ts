/**
 * What nodes send the edge, both signed with MEDIA_CONTROL_SECRET: registrations
 * (`POST /api/fleet/nodes`, Stripe-style `t=,v1=` as infra-cdk's agent signs) and media node
 * events (`POST /api/fleet/events`, the control API's `t=,n=,v1=`), each routed to the room's object,
 * which refuses a nonce it has seen (409: a replay).
 */
import {
  CONTROL_SIGNATURE_HEADER,
  describeIssues,
  ErrorCode,
  MediaNodeEvent,
  NodeRegistration,
  verifyControlSignature,
  verifyNodeRegistration,
} from '@callstack/protocol';
import * as v from 'valibot';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { mediaFleet, roomByObjectId } from '../objects/stubs.ts';

const MAX_BODY_BYTES = 16 * 1024;

export async function registerNode(request: Request, env: Env): Promise<Response> {
  const body = await readBody(request);
  const check = await verifyNodeRegistration(secretOf(env), request.headers.get(CONTROL_SIGNATURE_HEADER), body);
  if (!check.ok) throw new ApiError(check.code, check.message);
  const registration = parse(NodeRegistration, body);
  await mediaFleet(env).register(registration);
  return new Response(null, { status: 204 });
}

export async function nodeEvent(request: Request, env: Env): Promise<Response> {
  const body = await readBody(request);
  const url = new URL(request.url);
  const check = await verifyControlSignature(secretOf(env), request.headers.get(CONTROL_SIGNATURE_HEADER), {
    method: request.method,
    path: url.pathname + url.search,
    body,
  });
  if (!check.ok) throw new ApiError(check.code, check.message);
  const event = parse(MediaNodeEvent, body);
  const roomIds = event.type === 'worker.died' ? event.roomIds : [event.roomId];
  const applied = await Promise.all(
    roomIds.map(async (roomId) => {
      const room = roomByObjectId(env, roomId);
      if (!room) {
        log.warn('fleet.event_for_unknown_room', { nodeId: event.nodeId, roomId, type: event.type });
        return true;
      }
      return room.nodeEvent(event, check.nonce);
    }),
  );
  if (applied.includes(false)) throw new ApiError(ErrorCode.conflict, 'this event was already received (replayed signature)');
  return new Response(null, { status: 204 });
}

function secretOf(env: Env): string {
  const secret = config(env).mediaControlSecret;
  if (!secret) throw new ApiError(ErrorCode.unauthorized, 'node requests are not configured on this edge');
  return secret;
}

async function readBody(request: Request): Promise<string> {
  const body = await request.text();
  if (body.length > MAX_BODY_BYTES) throw new ApiError(ErrorCode.messageTooLarge, 'request body too large');
  return body;
}

function parse<S extends v.GenericSchema>(schema: S, body: string): v.InferOutput<S> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ApiError(ErrorCode.badRequest, 'request body is not valid JSON');
  }
  const result = v.safeParse(schema, json);
  if (!result.success) throw new ApiError(ErrorCode.badRequest, describeIssues(result.issues));
  return result.output;
}
