import type { Env } from '../env.ts';

/** Every device of one user meets in one hub: `<tenantId>:<userId>`. */
export function userHub(env: Env, tenantId: string, userId: string) {
  return env.USER_HUB.get(env.USER_HUB.idFromName(`${tenantId}:${userId}`));
}

/** Call ids are only unique within a tenant, so tenants can never reach each other's calls. */
export function callSession(env: Env, tenantId: string, callId: string) {
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(`${tenantId}:${callId}`));
}
