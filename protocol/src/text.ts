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

/**
 * `text` with each lone surrogate replaced by U+FFFD, as UTF-8 encoding would: for text that is
 * already stored or signed (a name in a token) and must be encoded, not refused.
 */
export function withoutLoneSurrogates(text: string): string {
  return text.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');
}

/** Number of characters (code points) of a well-formed string. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * `v.minLength` counted in characters: the same issue, which the web's forms and the edge's
 * OpenAPI description (JSON Schema `minLength` counts characters too) read.
 */
export function minCharacters(requirement: number, message?: string): v.MinLengthAction<string, number, string | undefined> {
  return {
    ...v.minLength<string, number, string | undefined>(requirement, message),
    '~run'(dataset, config) {
      const count = dataset.typed ? characterCount(dataset.value) : 0;
      if (dataset.typed && count < this.requirement) v._addIssue(this, 'length', dataset, config, { received: `${count}` });
      return dataset;
    },
  };
}

/** `v.maxLength` counted in characters (see `minCharacters`). */
function maxCharacters(requirement: number): v.MaxLengthAction<string, number, undefined> {
  return {
    ...v.maxLength<string, number>(requirement),
    '~run'(dataset, config) {
      const count = dataset.typed ? characterCount(dataset.value) : 0;
      if (dataset.typed && count > this.requirement) v._addIssue(this, 'length', dataset, config, { received: `${count}` });
      return dataset;
    },
  };
}

export function Text({ min = 0, max, trim = true, multiline = false }: TextOptions) {
  return v.pipe(
    v.string(),
    v.check((text) => !LONE_SURROGATE.test(text), 'contains an unpaired surrogate (not valid Unicode)'),
    v.check((text) => !(multiline ? CONTROL_BUT_WHITESPACE : CONTROL).test(text), 'contains a NUL or control character'),
    v.transform((text) => (trim ? text.trim() : text).normalize('NFC')),
    minCharacters(min),
    maxCharacters(max),
  );
}

export interface VerbatimOptions {
  /** Fewest characters (default 0). */
  min?: number;
  /** Most characters. */
  max: number;
}

/** Whether `text` has neither a NUL nor a lone surrogate: what every string, free text or not, must pass. */
function isWellFormed(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/**
 * A string that is not free text (a codec name, an address a media node reports): kept exactly
 * as sent, but refused like text with a NUL or a lone surrogate, which Postgres, UTF-8 hashing and
 * JSON cannot carry.
 */
export const WellFormedString = v.pipe(v.string(), v.check(isWellFormed, 'contains a NUL or an unpaired surrogate'));

/** A `WellFormedString` with bounds in characters: passwords (hashed), tokens (compared), refs and SDP (echoed). */
export function Verbatim({ min = 0, max }: VerbatimOptions) {
  return v.pipe(WellFormedString, minCharacters(min), maxCharacters(max));
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
