import type { Env } from '../env.ts';
import { presenceShardCount } from '../presence/shards.ts';

/** Every device of one user meets in one hub: `<tenantId>:<userId>`. */
export function userHub(env: Env, tenantId: string, userId: string) {
  return env.USER_HUB.get(env.USER_HUB.idFromName(`${tenantId}:${userId}`));
}

/** Call ids are only unique within a tenant, so tenants can never reach each other's calls. */
export function callSession(env: Env, tenantId: string, callId: string) {
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(`${tenantId}:${callId}`));
}

/** Shard `index` of a tenant's presence: `<tenantId>:<index>`, so a watcher only ever sees its own tenant. */
export function presenceShard(env: Env, tenantId: string, index: number) {
  return env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`${tenantId}:${index}`));
}

/** Every presence shard of a tenant (`PRESENCE_SHARDS` of them). */
export function presenceShards(env: Env, tenantId: string) {
  return Array.from({ length: presenceShardCount(env.PRESENCE_SHARDS) }, (_, index) => presenceShard(env, tenantId, index));
}
