/**
 * The one type for free text that crosses a boundary (names, search terms, query parameters,
 * anything a person typed). Postgres refuses NUL, JSON refuses lone surrogates, and the same name
 * typed on two keyboards must compare equal: so text is refused with NUL or another C0 control
 * (tab, newline and carriage return allowed only where `multiline`), refused with a lone
 * surrogate, normalised to NFC, and measured in characters (code points), not UTF-16 units.
 */
import * as v from 'valibot';

export interface TextOptions {
  /** Fewest characters after trimming (default 0). */
  min?: number;
  /** Most characters after trimming. */
  max: number;
  /** Trim surrounding white space (default true). */
  trim?: boolean;
  /** Allow tab, line feed and carriage return (default false). */
  multiline?: boolean;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Number of characters (code points) of a well-formed string. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Whether `text` is free of NUL/control characters and lone surrogates (see `Text`). */
export function isCleanText(text: string, multiline = false): boolean {
  return !(multiline ? CONTROL_BUT_WHITESPACE : CONTROL).test(text) && !LONE_SURROGATE.test(text);
}

export function Text({ min = 0, max, trim = true, multiline = false }: TextOptions) {
  return v.pipe(
    v.string(),
    v.check((text) => !LONE_SURROGATE.test(text), 'contains an unpaired surrogate (not valid Unicode)'),
    v.check((text) => !(multiline ? CONTROL_BUT_WHITESPACE : CONTROL).test(text), 'contains a NUL or control character'),
    v.transform((text) => (trim ? text.trim() : text).normalize('NFC')),
    v.check((text) => characterCount(text) >= min, min <= 1 ? 'must not be empty' : `must be at least ${min} characters`),
    v.check((text) => characterCount(text) <= max, `must be at most ${max} characters`),
  );
}

export interface VerbatimOptions {
  /** Fewest characters (default 0). */
  min?: number;
  /** Most characters (default: no limit). */
  max?: number;
}

/** Whether `text` has neither a NUL nor a lone surrogate: what every string, free text or not, must pass. */
export function isWellFormed(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/**
 * A string that is not free text (a password, token, ref, SDP): kept exactly as sent, because it
 * is hashed, compared or echoed, but refused like text with a NUL or a lone surrogate, which
 * Postgres, UTF-8 hashing and JSON cannot carry. Length in characters.
 */
export function Verbatim({ min = 0, max = Infinity }: VerbatimOptions = {}) {
  return v.pipe(
    v.string(),
    v.check(isWellFormed, 'contains a NUL or an unpaired surrogate'),
    v.check((text) => characterCount(text) >= min, min <= 1 ? 'must not be empty' : `must be at least ${min} characters`),
    v.check((text) => characterCount(text) <= max, `must be at most ${max} characters`),
  );
}

/** Whether every string in a JSON value, keys included, is well-formed (see `isWellFormed`). */
export function isWellFormedDeep(value: unknown): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (Array.isArray(value)) return value.every(isWellFormedDeep);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).every(([key, item]) => isWellFormed(key) && isWellFormedDeep(item));
  }
  return true;
}
