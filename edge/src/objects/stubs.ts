/**
 * Durable Object addressing: the one place that says how each object is named. Names carry the
 * tenant, so no id of one tenant can ever reach another tenant's object.
 */
import { config } from '../config.ts';
import type { Env } from '../env.ts';

/** Every device of one user meets in one hub: `<tenantId>:<userId>`. */
export function userHub(env: Env, tenantId: string, userId: string) {
  return env.USER_HUB.get(env.USER_HUB.idFromName(`${tenantId}:${userId}`));
}

/** Call ids are only unique within a tenant, so tenants can never reach each other's calls. */
export function callSession(env: Env, tenantId: string, callId: string) {
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(`${tenantId}:${callId}`));
}

/** Room ids are only unique within a tenant: `<tenantId>:<roomId>`. */
export function roomObject(env: Env, tenantId: string, roomId: string) {
  return env.ROOM.get(env.ROOM.idFromName(`${tenantId}:${roomId}`));
}

/**
 * A room by the id its media node knows it by (the object's own id, 64 hex characters); null for
 * anything else, so a node cannot name an object that is not a room.
 */
export function roomByObjectId(env: Env, objectId: string) {
  if (!/^[0-9a-f]{64}$/.test(objectId)) return null;
  try {
    return env.ROOM.get(env.ROOM.idFromString(objectId));
  } catch {
    return null;
  }
}

/** The media node registry: one object for the whole fleet (edge/README.md "Rooms"). */
export function mediaFleet(env: Env) {
  return env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName('global'));
}

/** Shard `index` of a tenant's presence: `<tenantId>:<index>`, so a watcher only ever sees its own tenant. */
export function presenceShard(env: Env, tenantId: string, index: number) {
  return env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`${tenantId}:${index}`));
}

/** Every presence shard of a tenant (`PRESENCE_SHARDS` of them). */
export function presenceShards(env: Env, tenantId: string) {
  return Array.from({ length: config(env).presence.shards }, (_, index) => presenceShard(env, tenantId, index));
}

/** A tenant's calls to the outside are counted in one place: `<tenantId>`. */
export function pstnGuard(env: Env, tenantId: string) {
  return env.PSTN_GUARD.get(env.PSTN_GUARD.idFromName(tenantId));
}
