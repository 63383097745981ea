/**
 * A carrier's call to one of the platform's numbers, decided: the trunk it came from (by source
 * address, whatever Kamailio already checked), whose number it is, and whom it rings. The call is
 * then placed by the gateway as a line (protocol/src/sip.ts `PSTN_LINE_PREFIX`) and rings the
 * user's devices like any call; the record written here is what the line may place (`lines.ts`).
 * A number that forwards to another number sends the call back out through the trunks, checked
 * like any call out of the tenant (closed destinations stay closed); its one record is the
 * inbound call, with the number it went on to as its destination.
 *
 * Nothing is written for a call that is nobody's (not a trunk, not a number here): a scanner's
 * flood leaves no rows. A number of a tenant that routes nowhere leaves a refused record, so the
 * admin sees callers who reached it. An admitted call takes a slot of the tenant's concurrent calls
 * (its PstnGuard; busy when none is left) and lasts at most the policy's longest call.
 */
import {
  lineDevice,
  newLineId,
  type E164,
  type NumberRoute,
  type PresentedCallerId,
  type RefusedRouteAnswer,
  type SipInboundAnswer,
  type SipInboundRequest,
} from '@callstack/protocol';
import { config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { spendStanding } from '../db/billing.ts';
import { contactNameFor, findNumberOwner, insertPstnRecord } from '../db/pstn.ts';
import type { Db } from '../db/client.ts';
import { findRingGroup } from '../db/ringGroups.ts';
import { findActiveUser, type UserRow } from '../db/users.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { pstnGuard } from '../objects/stubs.ts';
import { displayNumber, parseDestination, parseFromCarrier } from './destination.ts';
import { trunkAttempts } from './outbound.ts';
import { pstnPolicyOf } from './policy.ts';
import { checkDestination, isOpened, type Verdict } from './tollFraudGuard.ts';

export async function decideInbound(env: Env, request: SipInboundRequest): Promise<SipInboundAnswer> {
  const callId = crypto.randomUUID();
  const refused = (reason: RefusedRouteAnswer['reason'], sipStatus: RefusedRouteAnswer['sipStatus'], message: string): RefusedRouteAnswer => {
    log.info('pstn.inbound_refused', { callId, trunkId: request.trunkId, reason });
    return { kind: 'refused', callId, reason, message, sipStatus };
  };
  const trunk = config(env).pstnTrunks.find((candidate) => candidate.id === request.trunkId);
  if (!trunk || !trunk.addresses.includes(request.source)) return refused('not_in_service', 403, 'calls are taken only from the platform’s carriers');
  const did = parseFromCarrier(request.to, trunk.numberFormat, trunk.country);
  if (!did) return refused('not_in_service', 404, 'the number called is not in service');
  const from = parseFromCarrier(request.from, trunk.numberFormat, trunk.country);
  const createdAt = Date.now();

  return withDb(env, async (db) => {
    const owner = await findNumberOwner(db, did);
    if (!owner) return refused('not_in_service', 404, 'the number called is not in service');
    const { tenantId, route } = owner;
    const policy = await pstnPolicyOf(db, tenantId);
    const record = (
      userId: string | null,
      refusal: RefusedRouteAnswer['reason'] | null,
      destination: E164 = did,
      ringGroupId?: string,
      maxDurationSeconds = policy.maxCallDurationSeconds,
    ) =>
      insertPstnRecord(db, {
        callId,
        tenantId,
        userId,
        direction: 'inbound',
        trunkId: trunk.id,
        did,
        callerId: from,
        destination,
        createdAt,
        refusal,
        maxDurationSeconds: refusal ? null : maxDurationSeconds,
        ...(ringGroupId ? { ringGroupId } : {}),
      });
    if (route.kind === 'number') {
      // The forward is a call out of the tenant: the same guard as anyone's (what may be called, the limits).
      const destination = parseDestination(route.number, policy.defaultCountry);
      // A platform number (it became one after the forward was set): forwarding there could loop through the carrier.
      const allowed: Verdict =
        destination && !(await findNumberOwner(db, destination.e164))
          ? checkDestination(policy, destination)
          : { ok: false, reason: 'not_in_service', sipStatus: 404, message: 'the number called is not in service' };
      const trunks = config(env).pstnTrunks;
      const line = lineDevice(tenantId, newLineId(), request.fromName || (from ? displayNumber(from) : 'Unknown caller'));
      // The forward is billed as a call out (billing's `authorize`): the tenant pays the second leg.
      const spend =
        allowed.ok && destination
          ? { standing: await spendStanding(db, tenantId, destination.e164, new Date(createdAt)), opened: isOpened(policy, destination) }
          : undefined;
      const admitted = allowed.ok ? await pstnGuard(env, tenantId).admitInbound(tenantId, callId, line.userId, policy, spend) : allowed;
      if (!admitted.ok) {
        await record(null, admitted.reason, route.number);
        return refused(admitted.reason, admitted.sipStatus, `this number forwards to ${route.number}: ${admitted.message}`);
      }
      await record(null, null, route.number, undefined, admitted.maxSeconds).catch(async (error: unknown) => {
        await pstnGuard(env, tenantId).release(tenantId, callId);
        throw error;
      });
      // The caller's own number goes on (or withheld, with the number called asserted), as forwarding services do.
      const callerId: PresentedCallerId = { number: from ?? did, name: request.fromName ?? '', withheld: from === null };
      log.info('pstn.inbound_forwarded', { tenantId, callId, trunkId: trunk.id, trunks: trunks.length });
      return {
        kind: 'forward',
        callId,
        line,
        destination: route.number,
        callerId,
        maxDurationSeconds: admitted.maxSeconds,
        trunks: trunkAttempts(trunks, route.number, callerId),
      } satisfies SipInboundAnswer;
    }
    const members = await membersOf(db, tenantId, route);
    const callee = members[0];
    if (!callee) {
      await record(null, 'not_in_service');
      log.info('pstn.inbound_unrouted', { tenantId, callId, route: route.kind });
      return refused('not_in_service', 404, 'the number called is not in service');
    }
    const admitted = await pstnGuard(env, tenantId).admitInbound(tenantId, callId, callee.id, policy);
    if (!admitted.ok) {
      await record(callee.id, admitted.reason);
      return refused(admitted.reason, admitted.sipStatus, admitted.message);
    }
    await record(callee.id, null, did, route.kind === 'group' ? route.groupId : undefined).catch(async (error: unknown) => {
      await pstnGuard(env, tenantId).release(tenantId, callId);
      throw error;
    });
    const contactName = from && (await contactNameFor(db, tenantId, callee.id, from));
    log.info('pstn.inbound_admitted', { tenantId, callId, userId: callee.id, trunkId: trunk.id });
    return {
      kind: 'user',
      callId,
      // The callee's own name for the number first; the carrier's caller name can be anything.
      line: lineDevice(tenantId, newLineId(), contactName || request.fromName || (from ? displayNumber(from) : 'Unknown caller')),
      callee: { userId: callee.id, displayName: callee.displayName },
    } satisfies SipInboundAnswer;
  });
}

/** Whom a number rings: its user, or its ring group's active members in order (the first is the callee). */
async function membersOf(db: Db, tenantId: string, route: NumberRoute): Promise<UserRow[]> {
  if (route.kind === 'user') {
    const user = await findActiveUser(db, tenantId, route.userId);
    return user ? [user] : [];
  }
  if (route.kind !== 'group') return [];
  const group = await findRingGroup(db, tenantId, route.groupId);
  if (!group) return [];
  const users = await Promise.all(group.members.map((member) => findActiveUser(db, tenantId, member)));
  return users.filter((user): user is UserRow => user !== null);
}
