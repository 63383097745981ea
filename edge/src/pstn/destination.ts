/**
 * What a dialled number is: E.164, which country, what kind of line (libphonenumber-js's metadata,
 * not regular expressions). The toll-fraud guard decides on this, and the record keeps it.
 */
import type { CountryCode as PolicyCountry, E164, NumberFormat } from '@callstack/protocol';
import { parsePhoneNumberFromString, type CountryCode, type NumberType } from 'libphonenumber-js/max';

export interface Destination {
  e164: E164;
  /** Null for numbers of no country (international networks such as +882, satellite phones). */
  country: PolicyCountry | null;
  /** The line type the numbering plan gives the range, when it says. */
  type: NumberType;
}

/**
 * Line types that cost the caller far more than a call and are what toll fraud (IRSF) pumps
 * traffic to; closed unless a prefix is opened on purpose.
 */
const COSTLY_TYPES: ReadonlySet<NumberType> = new Set<NumberType>(['PREMIUM_RATE', 'SHARED_COST']);

/**
 * A dialled number as E.164, read in `defaultCountry` when it has no `+` (`00` and the other
 * international prefixes are understood too); null when it is no valid phone number there
 * (including short codes and emergency numbers, which this platform does not carry).
 */
export function parseDestination(dialled: string, defaultCountry: PolicyCountry): Destination | null {
  const cleaned = dialled.trim();
  if (cleaned.length === 0 || cleaned.length > 32) return null;
  const parsed = parsePhoneNumberFromString(cleaned, { defaultCountry: defaultCountry as CountryCode, extract: false });
  if (!parsed?.isValid()) return null;
  return { e164: parsed.number as E164, country: parsed.country ?? null, type: parsed.getType() };
}

/** Premium-rate, shared-cost, or a number of no country: what the guard blocks by default. */
export function isCostly(destination: Destination): boolean {
  return destination.country === null || (destination.type !== undefined && COSTLY_TYPES.has(destination.type));
}

/**
 * A number as a carrier wrote it in an INVITE (the caller's From, the dialled DID), read with the
 * trunk's own format and country; null when it is none (`anonymous`, a withheld or garbled caller).
 */
export function parseFromCarrier(written: string, format: NumberFormat, carrierCountry: PolicyCountry): E164 | null {
  const cleaned = written.trim();
  if (!/^\+?\d{3,16}$/.test(cleaned)) return null;
  // Carriers are not consistent even with themselves: a leading + is always E.164.
  const candidate = cleaned.startsWith('+') ? cleaned : format === 'national' ? cleaned : `+${cleaned}`;
  const parsed = parsePhoneNumberFromString(candidate, { defaultCountry: carrierCountry as CountryCode, extract: false });
  return parsed?.isValid() ? (parsed.number as E164) : null;
}

/** How a number is shown to a person who has no name for it: `+44 20 7946 0958`. */
export function displayNumber(e164: E164): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}

/** The number as a carrier wants it in a request URI or a From header (pstn.ts `NumberFormat`). */
export function formatFor(e164: E164, format: NumberFormat, carrierCountry: PolicyCountry): string {
  switch (format) {
    case 'e164':
      return e164;
    case 'digits':
      return e164.slice(1);
    case 'national': {
      const parsed = parsePhoneNumberFromString(e164);
      // A number of another country is dialled internationally from the carrier's.
      if (!parsed || parsed.country !== carrierCountry) return e164;
      return parsed.formatNational().replace(/\D/g, '');
    }
    default:
      return format satisfies never;
  }
}
