/**
 * One Durable Object per tenant (`pstnGuard`), the only place that counts the tenant's calls to
 * the outside: the pure guard (tollFraudGuard.ts) decides, this object keeps its state and carries
 * out its effects. Admissions are serialised by the object, so two phones dialling at the same
 * instant can never both take the last slot.
 *
 * It also keeps what running calls reserved of the tenant's spend caps (billing/authorize.ts).
 * A limit that refuses a call alerts the tenant's admins by mail (at most once an hour per limit)
 * and is written to the audit log.
 */
import type { PstnPolicy } from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { recordAudit } from '../db/audit.ts';
import { withTransaction } from '../db/client.ts';
import { enqueueMail } from '../db/outbox.ts';
import { adminEmails } from '../db/users.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import { EMPTY_GUARD, guard, type GuardEffect, type GuardEvent, type GuardState, type Admission, type SpendCheck } from './tollFraudGuard.ts';

const STATE_KEY = 'guard';

export class PstnGuard extends DurableObject<Env> {
  /** One more call of `userId`, if it fits the tenant's limits and spend caps now (`spend`: a billable call). */
  async admit(tenantId: string, callId: string, userId: string, policy: PstnPolicy, spend?: SpendCheck): Promise<Admission> {
    return this.apply(tenantId, { kind: 'admit', callId, userId, policy, ...(spend ? { spend } : {}) });
  }

  /** A carrier's call to one of the tenant's numbers, if the tenant's concurrent calls leave room (`spend`: a forward out). */
  async admitInbound(tenantId: string, callId: string, userId: string, policy: PstnPolicy, spend?: SpendCheck): Promise<Admission> {
    return this.apply(tenantId, { kind: 'admit-inbound', callId, userId, policy, ...(spend ? { spend } : {}) });
  }

  /** The call ended: its slot is free. */
  async release(tenantId: string, callId: string): Promise<void> {
    await this.apply(tenantId, { kind: 'release', callId });
  }

  /** Calls holding a slot right now (for the admin console and tests). */
  async activeCalls(): Promise<number> {
    const state = (await this.ctx.storage.get<GuardState>(STATE_KEY)) ?? EMPTY_GUARD;
    return Object.values(state.active).filter((call) => call.expiresAt > Date.now()).length;
  }

  private async apply(tenantId: string, event: GuardEvent): Promise<Admission> {
    const previous = (await this.ctx.storage.get<GuardState>(STATE_KEY)) ?? EMPTY_GUARD;
    const { state, effects, verdict } = guard(previous, event, Date.now());
    if (state !== previous) await this.ctx.storage.put(STATE_KEY, state);
    for (const effect of effects) await this.perform(tenantId, effect);
    return verdict;
  }

  private async perform(tenantId: string, effect: GuardEffect): Promise<void> {
    switch (effect.kind) {
      case 'alert':
        log.warn('pstn.limit_hit', { tenantId, userId: effect.userId, reason: effect.reason });
        try {
          await withTransaction(this.env, async (db) => {
            for (const email of await adminEmails(db, tenantId)) {
              await enqueueMail(db, {
                tenantId,
                to: email,
                subject: 'CallStack: a calling limit refused a call',
                text: `A call to the outside was refused: ${effect.message}.\n\nIf this was expected, nothing needs doing. If not, check who is calling (Admin > Calls) and the limits (Admin > Numbers > Calling policy).\n`,
              });
            }
            await recordAudit(db, {
              tenantId,
              actorType: 'user',
              actorId: effect.userId,
              action: 'pstn.limit_hit',
              details: { reason: effect.reason, message: effect.message },
            });
          });
          this.ctx.waitUntil(deliverSoon(this.env));
        } catch (error) {
          // The refusal stands either way; only the alert is lost.
          log.warn('pstn.alert_failed', { tenantId, reason: effect.reason }, error);
        }
        return;
      default:
        return effect.kind satisfies never;
    }
  }
}
