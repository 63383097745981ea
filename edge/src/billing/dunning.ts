/**
 * Dunning, as a pure function (the model: signaling/callState.ts): what happens to an invoice
 * whose charge failed. The card is tried again on a schedule counted from the first failure, the
 * tenant's admins get a mail at each failure, and once the grace period has passed with the
 * invoice still unpaid the tenant's calls to the outside stop (internal calls go on) until it is
 * paid. billing/collections.ts keeps the state (on the invoice's row) and carries out the effects.
 */

const DAY_MS = 86_400_000;
/** Days after the first failure on which the card is tried again (Stripe's own default is a similar week-long spread). */
export const RETRY_AFTER_DAYS = [1, 3, 7] as const;
/** Days after the first failure until calls to the outside stop. */
export const GRACE_DAYS = 14;
/** A try whose answer was lost (the run died, Stripe was unreachable) is made again after this long. */
export const TRY_LEASE_MS = 60 * 60 * 1000;

export interface DunningState {
  /** Charges tried, the first one included. */
  attempts: number;
  /** The last try known to have failed (0: none). */
  failures: number;
  /** When the first charge failed; null while none did. */
  failedAt: number | null;
  /** When the card is tried next; null when no try is left. */
  nextTryAt: number | null;
  /** When calls to the outside stopped for this invoice; null while they go on. */
  suspendedAt: number | null;
}

export const FRESH_DUNNING: DunningState = { attempts: 0, failures: 0, failedAt: null, nextTryAt: null, suspendedAt: null };

export type DunningEvent =
  /** Try number `attempt` was declined (or needs the customer to act). */
  | { kind: 'failed'; attempt: number; reason: string }
  /** The scheduled look at an unpaid invoice. */
  | { kind: 'due' }
  | { kind: 'paid' };

export type DunningNotice =
  | { kind: 'payment_failed'; attempt: number; reason: string; nextTryAt: number | null; suspendAt: number }
  | { kind: 'pstn_suspended' }
  | { kind: 'pstn_restored' };

export type DunningEffect = { kind: 'try_payment'; attempt: number } | { kind: 'notify'; notice: DunningNotice };

export interface DunningTransition {
  state: DunningState;
  effects: DunningEffect[];
}

export function dunning(state: DunningState, event: DunningEvent, now: number): DunningTransition {
  switch (event.kind) {
    case 'failed': {
      // The same answer twice (a try replayed under its idempotency key), or an older one, changes nothing.
      if (event.attempt <= state.failures) return { state, effects: [] };
      const failedAt = state.failedAt ?? now;
      const retry = RETRY_AFTER_DAYS[event.attempt - 1];
      const nextTryAt = retry === undefined ? null : Math.max(now, failedAt + retry * DAY_MS);
      const suspendAt = failedAt + GRACE_DAYS * DAY_MS;
      return {
        state: { ...state, attempts: Math.max(state.attempts, event.attempt), failures: event.attempt, failedAt, nextTryAt },
        effects: [{ kind: 'notify', notice: { kind: 'payment_failed', attempt: event.attempt, reason: event.reason, nextTryAt, suspendAt } }],
      };
    }
    case 'due': {
      let next = state;
      const effects: DunningEffect[] = [];
      if (next.failedAt !== null && next.suspendedAt === null && now >= next.failedAt + GRACE_DAYS * DAY_MS) {
        next = { ...next, suspendedAt: now };
        effects.push({ kind: 'notify', notice: { kind: 'pstn_suspended' } });
      }
      if (next.nextTryAt !== null && now >= next.nextTryAt) {
        // A try made and not answered (its answer was lost) is made again under the same number, so
        // its idempotency key replays Stripe's first answer instead of charging a second time.
        const attempt = next.attempts > next.failures ? next.attempts : next.attempts + 1;
        next = { ...next, attempts: attempt, nextTryAt: now + TRY_LEASE_MS };
        effects.push({ kind: 'try_payment', attempt });
      }
      return { state: next, effects };
    }
    case 'paid':
      return { state: FRESH_DUNNING, effects: state.suspendedAt === null ? [] : [{ kind: 'notify', notice: { kind: 'pstn_restored' } }] };
    default:
      return event satisfies never;
  }
}
