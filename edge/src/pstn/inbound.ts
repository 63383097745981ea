/**
 * A carrier's call to one of the platform's numbers, decided: the trunk it came from (by source
 * address, whatever Kamailio already checked), whose number it is, and whom it rings. The call is
 * then placed by the gateway as a line (protocol/src/sip.ts `PSTN_LINE_PREFIX`) and rings the
 * user's devices like any call; the record written here is what the line may place (`lines.ts`).
 *
 * Nothing is written for a call that is nobody's (not a trunk, not a number here): a scanner's
 * flood leaves no rows. A number of a tenant that routes nowhere leaves a refused record, so the
 * admin sees callers who reached it. An admitted call takes a slot of the tenant's concurrent calls
 * (its PstnGuard; busy when none is left) and lasts at most the policy's longest call.
 */
import { lineDevice, newLineId, type RefusedRouteAnswer, type SipInboundAnswer, type SipInboundRequest } from '@callstack/protocol';
import { config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { contactNameFor, findNumberOwner, insertPstnRecord } from '../db/pstn.ts';
import { findActiveUser } from '../db/users.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { pstnGuard } from '../objects/stubs.ts';
import { displayNumber, parseFromCarrier } from './destination.ts';
import { pstnPolicyOf } from './policy.ts';

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
    const record = (userId: string | null, refusal: RefusedRouteAnswer['reason'] | null) =>
      insertPstnRecord(db, {
        callId,
        tenantId,
        userId,
        direction: 'inbound',
        trunkId: trunk.id,
        did,
        callerId: from,
        destination: did,
        createdAt,
        refusal,
        maxDurationSeconds: refusal ? null : policy.maxCallDurationSeconds,
      });
    // Forwarding to a number would bridge two outside lines: not carried yet (the number rings nobody).
    const callee = route.kind === 'user' ? await findActiveUser(db, tenantId, route.userId) : null;
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
    await record(callee.id, null).catch(async (error: unknown) => {
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
