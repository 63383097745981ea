/**
 * A call to the outside, decided: the dialled number in E.164 (the tenant's default country), the
 * toll-fraud guard (what may be called, then whether it fits the limits and spend caps now:
 * billing's `authorize`, which also shortens the longest duration to what the money left buys), the trunks in
 * failover order with the numbers as each carrier wants them, the caller ID, the longest the call
 * may last. Every decision leaves a record, a refusal included (with its reason), so the admin
 * sees blocked attempts beside the calls.
 */
import type { E164, PresentedCallerId, PstnRouteAnswer, RefusedRouteAnswer, Trunk, TrunkAttempt } from '@callstack/protocol';
import { config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { spendStanding } from '../db/billing.ts';
import { insertPstnRecord } from '../db/pstn.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { pstnGuard } from '../objects/stubs.ts';
import { formatFor, parseDestination } from './destination.ts';
import { callerNumberOf } from './policy.ts';
import { checkDestination, isOpened, type Refused } from './tollFraudGuard.ts';

export interface OutboundCaller {
  tenantId: string;
  userId: string;
  displayName: string;
}

/** Whether `target` is meant as a phone number rather than a colleague (digits, spaces, +, -, ()). */
export function looksLikeNumber(target: string): boolean {
  return /^[+\d][\d\s().-]{2,31}$/.test(target.trim());
}

/**
 * Null when `dialled` is no phone number that can be called from the tenant's country. `callId`:
 * the call's own id when it has one already (a browser's), else a new one.
 */
export async function decideOutbound(
  env: Env,
  caller: OutboundCaller,
  dialled: string,
  callId: string = crypto.randomUUID(),
): Promise<PstnRouteAnswer | RefusedRouteAnswer | null> {
  const createdAt = Date.now();
  const { policy, number, withheld, destination, standing } = await withDb(env, async (db) => {
    const presented = await callerNumberOf(db, caller.tenantId, caller.userId);
    const parsed = parseDestination(dialled, presented.policy.defaultCountry);
    return { ...presented, destination: parsed, standing: parsed && (await spendStanding(db, caller.tenantId, parsed.e164, new Date(createdAt))) };
  });
  const ids = { tenantId: caller.tenantId, userId: caller.userId, callId };
  const callerId: PresentedCallerId = { number, name: caller.displayName, withheld };

  // Not a number anywhere (a mistyped extension, a short code): the caller hears `not_found`, as for nobody.
  if (!destination || !standing) return null;
  const record = (refusal: Refused | null, maxDurationSeconds: number | null = null) =>
    withDb(env, (db) =>
      insertPstnRecord(db, {
        callId,
        tenantId: caller.tenantId,
        userId: caller.userId,
        direction: 'outbound',
        did: null,
        callerId: callerId.number,
        destination: destination.e164,
        createdAt,
        refusal: refusal?.reason ?? null,
        maxDurationSeconds,
      }),
    );
  const refuse = async (refusal: Refused): Promise<RefusedRouteAnswer> => {
    log.info('pstn.refused', { ...ids, reason: refusal.reason });
    await record(refusal);
    return { kind: 'refused', callId, reason: refusal.reason, message: refusal.message, sipStatus: refusal.sipStatus };
  };

  const allowed = checkDestination(policy, destination);
  if (!allowed.ok) return refuse(allowed);
  const trunks = config(env).pstnTrunks;
  if (trunks.length === 0) {
    return refuse({ ok: false, reason: 'no_trunk', sipStatus: 503, message: 'calls to the outside are not set up on this platform' });
  }
  const guard = pstnGuard(env, caller.tenantId);
  const admitted = await guard.admit(caller.tenantId, callId, caller.userId, policy, { standing, opened: isOpened(policy, destination) });
  if (!admitted.ok) return refuse(admitted);

  // No record, no call: its slot is given back at once rather than when it would have expired.
  await record(null, admitted.maxSeconds).catch(async (error: unknown) => {
    await guard.release(caller.tenantId, callId);
    throw error;
  });
  log.info('pstn.admitted', { ...ids, country: destination.country, trunks: trunks.length });
  return {
    kind: 'pstn',
    callId,
    destination: destination.e164,
    callerId,
    maxDurationSeconds: admitted.maxSeconds,
    trunks: trunkAttempts(trunks, destination.e164, callerId),
  };
}

/** The trunks in failover order, with the numbers written as each carrier wants them. */
export function trunkAttempts(trunks: readonly Trunk[], destination: E164, callerId: PresentedCallerId): TrunkAttempt[] {
  return trunks.map((trunk) => ({
    ...trunk,
    dial: formatFor(destination, trunk.numberFormat, trunk.country),
    callerIdNumber: callerId.number && formatFor(callerId.number, trunk.numberFormat, trunk.country),
  }));
}
