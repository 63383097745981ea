import { CloseCode } from '@callstack/protocol';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { userHub } from '../objects/stubs.ts';

/**
 * Closes every socket of a user (signaling and presence) after their account was deactivated,
 * erased or signed out everywhere. Runs after the database change committed; a failure here
 * only delays the effect until the access token expires, so it is logged, not thrown. An account
 * that is gone (`accountGone`) loses its registered SIP phones as devices too.
 */
export async function disconnectUser(env: Env, tenantId: string, userId: string, reason: string, { accountGone = false } = {}): Promise<void> {
  await userHub(env, tenantId, userId)
    .disconnectAll(CloseCode.disconnected, reason, accountGone)
    .catch((error: unknown) => log.warn('user.disconnect_failed', { tenantId, userId }, error));
}
