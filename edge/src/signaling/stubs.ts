import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { CLOSE_DISCONNECTED } from './UserHub.ts';
import { presenceShardCount } from '../presence/shards.ts';

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
  return Array.from({ length: presenceShardCount(env.PRESENCE_SHARDS) }, (_, index) => presenceShard(env, tenantId, index));
}

/**
 * Closes every socket of a user (signaling and presence) after their account was deactivated,
 * erased or signed out everywhere. Runs after the database change committed; a failure here
 * only delays the effect until the access token expires, so it is logged, not thrown.
 */
export async function disconnectUser(env: Env, tenantId: string, userId: string, reason: string): Promise<void> {
  await userHub(env, tenantId, userId)
    .disconnectAll(CLOSE_DISCONNECTED, reason)
    .catch((error: unknown) => log.warn('user.disconnect_failed', { tenantId, userId }, error));
}
