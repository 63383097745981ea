/**
 * Money as integer micro-units of a currency (1 unit = 1,000,000 micros), never floats: a price of
 * 0.0125 per minute is 12,500 micros. Decimal strings come in (rate decks, limits) and go out
 * (exports, invoices) without a float in between.
 */

export const MICROS_PER_UNIT = 1_000_000;
const DECIMALS = 6;

/** The currencies a tenant may be billed in (ISO 4217, two-decimal ones Stripe charges in). */
export const CURRENCIES = ['EUR', 'GBP', 'USD', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CAD', 'AUD'] as const;
export type Currency = (typeof CURRENCIES)[number];

export function isCurrency(value: string): value is Currency {
  return (CURRENCIES as readonly string[]).includes(value);
}

/**
 * `"0.0125"` -> 12_500. Non-negative, at most six decimals, at most 10^9 units; anything else
 * (signs, exponents, spaces, commas) is null, so a deck row says exactly what it costs.
 */
export function parseMicros(text: string): number | null {
  const match = /^(\d{1,9})(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) return null;
  const [, whole, fraction = ''] = match;
  return Number(whole) * MICROS_PER_UNIT + Number(fraction.padEnd(DECIMALS, '0'));
}

/** An amount that may be negative (a credit on an invoice): `"-1.5"` -> -1_500_000. */
export function parseSignedMicros(text: string): number | null {
  const micros = parseMicros(text.startsWith('-') ? text.slice(1) : text);
  return micros === null ? null : text.startsWith('-') ? -micros : micros;
}

/** -1_500_000 -> `"-1.5"`. */
export function formatSignedMicros(micros: number): string {
  return micros < 0 ? `-${formatMicros(-micros)}` : formatMicros(micros);
}

/** 12_500 -> `"0.0125"`: the shortest decimal that parses back to the same micros. */
export function formatMicros(micros: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) throw new RangeError(`not a non-negative whole number of micros: ${micros}`);
  const whole = Math.floor(micros / MICROS_PER_UNIT);
  const fraction = String(micros % MICROS_PER_UNIT)
    .padStart(DECIMALS, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

export type Rounding = 'up' | 'down' | 'half-up';
export const ROUNDINGS: readonly Rounding[] = ['up', 'down', 'half-up'];

/** `numerator / denominator` (both non-negative integers) as a whole number of micros, rounded as asked. */
export function divideRounded(numerator: number, denominator: number, rounding: Rounding): number {
  const quotient = Math.floor(numerator / denominator);
  const remainder = numerator - quotient * denominator;
  if (remainder === 0) return quotient;
  switch (rounding) {
    case 'up':
      return quotient + 1;
    case 'down':
      return quotient;
    case 'half-up':
      return remainder * 2 >= denominator ? quotient + 1 : quotient;
    default:
      return rounding satisfies never;
  }
}
