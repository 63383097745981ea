/**
 * Rating one call against a deck, as a pure function: which row applies (longest prefix of the
 * dialled E.164 number whose window holds the answer time), how many seconds are billed (the
 * row's increments), and what that costs in micros (connect fee, per-minute price, rounding,
 * minimum charge). A deck in force is chosen by its activation date, so a new deck changes no
 * rated history: rating the same call against the same deck always gives the same answer.
 */
import { divideRounded, type Currency } from './money.ts';
import { appliesAt, type RateRow } from './rateDeck.ts';

export interface RateDeck {
  /** Stable id of this version of the deck (what a rated CDR records). */
  version: string;
  currency: Currency;
  /** The deck rates calls answered from this time on (until a later deck's). */
  effectiveFrom: Date;
  /** Destinations priced above this per minute are blocked (the toll-fraud guard; Telnyx's default is 0.50). */
  blockAbovePerMinute: number;
  rows: readonly RateRow[];
}

export type Rated =
  | { kind: 'rated'; prefix: string; destination: string; billedSeconds: number; cost: number; line: number }
  /** No row matches: the destination is not in the plan (refused before the call; rated 0 if it happened). */
  | { kind: 'unrated'; reason: 'no-rate' };

/** Finds rows by prefix quickly: one map lookup per digit of the number. */
export class RateIndex {
  private readonly byPrefix = new Map<string, RateRow[]>();

  constructor(readonly deck: RateDeck) {
    for (const row of deck.rows) {
      const rows = this.byPrefix.get(row.prefix);
      if (rows) rows.push(row);
      else this.byPrefix.set(row.prefix, [row]);
    }
  }

  /** The row for `number` (E.164 digits, `+` optional) at `time`: the longest prefix whose window holds it. */
  match(number: string, time: Date): RateRow | null {
    const digits = number.startsWith('+') ? number.slice(1) : number;
    for (let length = Math.min(digits.length, 15); length > 0; length--) {
      const row = this.byPrefix.get(digits.slice(0, length))?.find((candidate) => appliesAt(candidate, time));
      if (row) return row;
    }
    return null;
  }

  /** Whether a row's destination is blocked: priced above the deck's limit per minute. */
  blocked(row: RateRow): boolean {
    return row.pricePerMinute > this.deck.blockAbovePerMinute;
  }

  /**
   * Rates a call to `number` answered at `answeredAt` that lasted `durationMs` (0: not answered,
   * free). A blocked destination is priced like any other: the block refuses calls before they
   * start (authorize.ts) unless an admin opened its prefix, and an opened call costs what it costs.
   */
  rate(number: string, answeredAt: Date, durationMs: number): Rated {
    const row = this.match(number, answeredAt);
    if (!row) return { kind: 'unrated', reason: 'no-rate' };
    const billedSeconds = billedSecondsOf(row, durationMs);
    return { kind: 'rated', prefix: row.prefix, destination: row.destination, billedSeconds, cost: costOf(row, billedSeconds), line: row.line };
  }
}

/** Started seconds, then the increments: 60/60 bills 61 s as 120, 1/1 as 61, 60/1 as 61 and 30 s as 60. */
export function billedSecondsOf(row: Pick<RateRow, 'initialSeconds' | 'incrementSeconds'>, durationMs: number): number {
  if (durationMs <= 0) return 0;
  const seconds = Math.ceil(durationMs / 1000);
  if (seconds <= row.initialSeconds) return row.initialSeconds;
  return row.initialSeconds + Math.ceil((seconds - row.initialSeconds) / row.incrementSeconds) * row.incrementSeconds;
}

/** Connect fee plus the per-minute price for the billed seconds, rounded once; never below the minimum charge. */
export function costOf(row: Pick<RateRow, 'pricePerMinute' | 'connectFee' | 'minimumCharge' | 'rounding'>, billedSeconds: number): number {
  if (billedSeconds === 0) return 0;
  const cost = row.connectFee + divideRounded(row.pricePerMinute * billedSeconds, 60, row.rounding);
  return Math.max(cost, row.minimumCharge);
}

/** The deck in force at `time`: the latest one effective by then (decks sorted or not). */
export function deckInForce<T extends Pick<RateDeck, 'effectiveFrom'>>(decks: readonly T[], time: Date): T | null {
  let best: T | null = null;
  for (const deck of decks) {
    if (deck.effectiveFrom.getTime() <= time.getTime() && (!best || deck.effectiveFrom > best.effectiveFrom)) best = deck;
  }
  return best;
}
