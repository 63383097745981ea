/**
 * Whether a billable call may start, and for how long (the CGRateS "max session time" idea), as a
 * pure function of the tenant's standing: the destination's rate in the deck in force, the spend
 * caps, what was spent in the day and the billing period, and what calls already running have
 * reserved. A call that is allowed reserves the cost of its longest duration, so calls started
 * together cannot overspend a cap between them; the reservation is given back when it ends and its
 * real charge is counted instead. The tenant's PstnGuard object, which serialises admissions,
 * keeps the reservations.
 */
import { billedSecondsOf, costOf } from './rating.ts';
import type { RateRow } from './rateDeck.ts';

export type Pricing = Pick<
  RateRow,
  'prefix' | 'destination' | 'pricePerMinute' | 'connectFee' | 'initialSeconds' | 'incrementSeconds' | 'minimumCharge' | 'rounding'
>;

/** The tenant's money as it stands when a call is asked for (db/billing.ts `spendStanding`, one query). */
export interface SpendStanding {
  currency: string;
  /** The destination's row in the deck in force; null when the plan has no price for it. */
  rate: Pricing | null;
  blockAboveMicros: number;
  /** Null: no cap of that kind. */
  dailyCapMicros: number | null;
  monthlyCapMicros: number | null;
  spentTodayMicros: number;
  spentPeriodMicros: number;
  /** An unpaid invoice is past its grace period (billing/dunning.ts): calls that cost money stop. */
  paymentOverdue: boolean;
}

export type SpendRefusal = 'no_rate' | 'destination_blocked' | 'spend_cap' | 'payment_overdue';

export type Authorization = { allowed: true; maxSeconds: number; reserveMicros: number } | { allowed: false; reason: SpendRefusal; message: string };

export interface AuthorizeOptions {
  /** What calls of the tenant now running have reserved. */
  reservedMicros: number;
  /** An admin opened the destination's prefix on purpose: the deck's price block does not apply. */
  opened: boolean;
  /** The longest the calling policy lets a call last. */
  maxSeconds: number;
}

/** The money left under the tighter cap, after what is spent and reserved; Infinity with no cap. */
export function remainingMicros(standing: SpendStanding, reservedMicros: number): number {
  const left = [
    standing.dailyCapMicros === null ? Infinity : standing.dailyCapMicros - standing.spentTodayMicros,
    standing.monthlyCapMicros === null ? Infinity : standing.monthlyCapMicros - standing.spentPeriodMicros,
  ];
  return Math.min(...left) - reservedMicros;
}

export function authorize(standing: SpendStanding, options: AuthorizeOptions): Authorization {
  const { rate } = standing;
  if (!rate) return { allowed: false, reason: 'no_rate', message: 'your organisation’s plan has no price for this destination' };
  if (rate.pricePerMinute > standing.blockAboveMicros && !options.opened) {
    return {
      allowed: false,
      reason: 'destination_blocked',
      message: `calls to ${rate.destination} are blocked for their price; an admin can open the prefix +${rate.prefix}`,
    };
  }
  const remaining = remainingMicros(standing, options.reservedMicros);
  const costFor = (seconds: number) => costOf(rate, billedSecondsOf(rate, seconds * 1000));
  const longest = costFor(options.maxSeconds);
  if (standing.paymentOverdue && longest > 0) {
    return {
      allowed: false,
      reason: 'payment_overdue',
      message: 'calls to the outside are stopped: an invoice of your organisation is unpaid past its grace period; an admin can pay it (Admin > Billing)',
    };
  }
  // A free destination (toll-free numbers) stays open at the cap.
  if (longest === 0 || longest <= remaining) return { allowed: true, maxSeconds: options.maxSeconds, reserveMicros: longest };
  // The cost only grows with the duration: the longest affordable call by bisection.
  let [low, high] = [0, options.maxSeconds];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (costFor(middle) <= remaining) low = middle;
    else high = middle - 1;
  }
  if (low < 1) {
    return { allowed: false, reason: 'spend_cap', message: 'your organisation has reached its spending limit for calls to the outside; an admin can raise it' };
  }
  return { allowed: true, maxSeconds: low, reserveMicros: costFor(low) };
}
