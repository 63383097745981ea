/**
 * Who acts on a Durable Object, and what it answers: the vocabulary every object of the edge
 * (hubs, calls, rooms, presence) shares. Objects answer RPCs with an `Outcome` rather than throwing,
 * so a refusal crosses the RPC boundary with its stable code intact.
 */
import type { ErrorCode } from '@callstack/protocol';

/** A signed-in device acting on an object (a type, not an interface, so it is also a set of log fields). */
export type Actor = {
  tenantId: string;
  userId: string;
  deviceId: string;
};

/** An actor with the name others see (rooms show it; the socket's identity carries it). */
export type NamedActor = Actor & { displayName: string };

export type Failure = { ok: false; code: ErrorCode; message: string };
export type Outcome<T = object> = ({ ok: true } & T) | Failure;

export function failure(code: ErrorCode, message: string): Failure {
  return { ok: false, code, message };
}

/**
 * The actor part of anything that carries one (a socket identity, a named actor): the ids only,
 * which is also what logs carry.
 */
export function actorOf({ tenantId, userId, deviceId }: Actor): Actor {
  return { tenantId, userId, deviceId };
}
