/**
 * Rate decks (the model of CGRateS and A2Billing rate tables) and their CSV form.
 *
 * One row per destination prefix and time window, with the header line
 *
 *   prefix,destination,price_per_minute,connect_fee,initial_seconds,increment_seconds,minimum_charge,rounding,weekdays,hours
 *
 * - `prefix`: E.164 digits without `+` (1 to 15), matched longest first: `4420` beats `44`.
 * - `price_per_minute`, `connect_fee`, `minimum_charge`: decimals in the deck's currency, at most
 *   six places (`0.0125`); never negative.
 * - `initial_seconds` / `increment_seconds`: the billing increments, e.g. 60/60, 6/6, 1/1 or 60/1:
 *   the first `initial` seconds are charged whole, then every started `increment`.
 * - `rounding`: `up`, `down` or `half-up`, to a whole micro-unit (10^-6 of the currency).
 * - `weekdays`: empty for every day, or days and ranges such as `mon-fri` or `sat,sun`.
 * - `hours`: empty for the whole day, or `HH:MM-HH:MM` (UTC, end exclusive; `18:00-08:00` wraps
 *   past midnight).
 *
 * Rows of one prefix may differ by window (peak, off-peak) but never overlap. A row whose price is
 * above the deck's `blockAbovePerMinute` marks its destination blocked (the toll-fraud guard):
 * calls there are refused, not rated.
 */
import { formatMicros, parseMicros, ROUNDINGS, type Rounding } from './money.ts';

export const RATE_DECK_HEADER = [
  'prefix',
  'destination',
  'price_per_minute',
  'connect_fee',
  'initial_seconds',
  'increment_seconds',
  'minimum_charge',
  'rounding',
  'weekdays',
  'hours',
] as const;

/** Most rows a deck may hold (a full international deck has about 100,000). */
export const MAX_DECK_ROWS = 500_000;
/** A price per minute above this is surely a typo (1,000 units a minute). */
const MAX_PRICE_MICROS = 1_000 * 1_000_000;
const MAX_INCREMENT_SECONDS = 3_600;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const ALL_WEEK = 0b111_1111;
const MINUTES_PER_DAY = 24 * 60;

export interface RateRow {
  prefix: string;
  destination: string;
  pricePerMinute: number;
  connectFee: number;
  initialSeconds: number;
  incrementSeconds: number;
  minimumCharge: number;
  rounding: Rounding;
  /** Bit `d` set: the row applies on weekday `d` (0 = Sunday), UTC. */
  weekdays: number;
  /** Minutes after midnight UTC, start inclusive, end exclusive; null for the whole day. */
  hours: { start: number; end: number } | null;
  /** The line of the CSV it came from (for errors that involve two rows). */
  line: number;
}

export interface DeckError {
  line: number;
  message: string;
}

export type DeckParse = { ok: true; rows: RateRow[] } | { ok: false; errors: DeckError[] };

/** Errors reported at most: a deck in the wrong format would otherwise produce one per row. */
const MAX_ERRORS = 100;

/** Parses and validates a whole deck: every row or none, with each error's line number. */
export function parseRateDeck(csv: string): DeckParse {
  const errors: DeckError[] = [];
  const rows: RateRow[] = [];
  const records = splitCsv(csv);
  const header = records[0];
  if (!header || header.fields.join(',').trim().toLowerCase() !== RATE_DECK_HEADER.join(',')) {
    return { ok: false, errors: [{ line: 1, message: `the first line must be the header: ${RATE_DECK_HEADER.join(',')}` }] };
  }
  for (const record of records.slice(1)) {
    if (record.fields.length === 1 && record.fields[0] === '') continue;
    if ('error' in record) errors.push({ line: record.line, message: record.error });
    else {
      const row = parseRow(record.fields, record.line);
      if ('message' in row) errors.push(row);
      else rows.push(row);
    }
    if (errors.length >= MAX_ERRORS) break;
  }
  if (rows.length + errors.length > MAX_DECK_ROWS) return { ok: false, errors: [{ line: 1, message: `a deck holds at most ${MAX_DECK_ROWS} rows` }] };
  if (errors.length === 0) errors.push(...overlaps(rows));
  if (rows.length === 0 && errors.length === 0) errors.push({ line: 1, message: 'the deck has no rows' });
  return errors.length ? { ok: false, errors: errors.slice(0, MAX_ERRORS) } : { ok: true, rows };
}

/** The deck as CSV again, in the documented form (parsing it gives the same rows). */
export function formatRateDeck(rows: readonly RateRow[]): string {
  const lines = rows.map((row) =>
    [
      row.prefix,
      quote(row.destination),
      formatMicros(row.pricePerMinute),
      formatMicros(row.connectFee),
      row.initialSeconds,
      row.incrementSeconds,
      formatMicros(row.minimumCharge),
      row.rounding,
      formatWeekdays(row.weekdays),
      row.hours ? `${clock(row.hours.start)}-${clock(row.hours.end)}` : '',
    ].join(','),
  );
  return [RATE_DECK_HEADER.join(','), ...lines, ''].join('\n');
}

/** Whether a row applies at `time` (its weekday and minute of the day in UTC). */
export function appliesAt(row: Pick<RateRow, 'weekdays' | 'hours'>, time: Date): boolean {
  const minute = time.getUTCHours() * 60 + time.getUTCMinutes();
  const { hours } = row;
  if (!hours) return (row.weekdays & (1 << time.getUTCDay())) !== 0;
  if (hours.start < hours.end) return (row.weekdays & (1 << time.getUTCDay())) !== 0 && minute >= hours.start && minute < hours.end;
  // A window past midnight belongs to the day it starts on.
  if (minute >= hours.start) return (row.weekdays & (1 << time.getUTCDay())) !== 0;
  return minute < hours.end && (row.weekdays & (1 << ((time.getUTCDay() + 6) % 7))) !== 0;
}

function parseRow(fields: string[], line: number): RateRow | DeckError {
  const fail = (message: string): DeckError => ({ line, message });
  if (fields.length !== RATE_DECK_HEADER.length) return fail(`expected ${RATE_DECK_HEADER.length} fields, found ${fields.length}`);
  const [prefix, destination, price, connect, initial, increment, minimum, rounding, weekdays, hours] = fields.map((field) => field.trim()) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!/^[1-9]\d{0,14}$/.test(prefix)) return fail(`prefix "${shown(prefix)}" must be 1 to 15 digits of an E.164 number, without +`);
  if (!destination || destination.length > 100 || /\p{Cc}/u.test(destination)) return fail('destination must be a name of 1 to 100 printable characters');
  const amounts: [string, string][] = [
    ['price_per_minute', price],
    ['connect_fee', connect],
    ['minimum_charge', minimum],
  ];
  const micros: number[] = [];
  for (const [name, text] of amounts) {
    const value = parseMicros(text);
    if (value === null) return fail(`${name} "${shown(text)}" must be a non-negative decimal with at most six places`);
    if (value > MAX_PRICE_MICROS) return fail(`${name} ${text} is above the most a deck may charge (1000)`);
    micros.push(value);
  }
  const seconds = [initial, increment].map((text) => (/^\d{1,4}$/.test(text) ? Number(text) : NaN));
  if (seconds.some((value) => !(value >= 1 && value <= MAX_INCREMENT_SECONDS))) {
    return fail(`initial_seconds and increment_seconds must be whole seconds from 1 to ${MAX_INCREMENT_SECONDS} (e.g. 60 and 60, 6 and 6, 1 and 1)`);
  }
  if (!(ROUNDINGS as readonly string[]).includes(rounding)) return fail(`rounding "${shown(rounding)}" must be one of ${ROUNDINGS.join(', ')}`);
  const days = parseWeekdays(weekdays);
  if (days === null) return fail(`weekdays "${shown(weekdays)}" must be empty, or days such as mon-fri or sat,sun`);
  const window = parseHours(hours);
  if (window === undefined) return fail(`hours "${shown(hours)}" must be empty, or HH:MM-HH:MM`);
  return {
    prefix,
    destination,
    pricePerMinute: micros[0]!,
    connectFee: micros[1]!,
    minimumCharge: micros[2]!,
    initialSeconds: seconds[0]!,
    incrementSeconds: seconds[1]!,
    rounding: rounding as Rounding,
    weekdays: days,
    hours: window,
    line,
  };
}

/** Rows of one prefix whose windows share a minute of the week: which price applies would be a guess. */
function overlaps(rows: RateRow[]): DeckError[] {
  const byPrefix = new Map<string, RateRow[]>();
  for (const row of rows) byPrefix.set(row.prefix, [...(byPrefix.get(row.prefix) ?? []), row]);
  const errors: DeckError[] = [];
  for (const group of byPrefix.values()) {
    if (group.length < 2) continue;
    const weeks = group.map(minutesOfWeek);
    for (let i = 0; i < group.length; i++) {
      for (let j = 0; j < i; j++) {
        if (weeks[i]!.some((set, index) => set && weeks[j]![index])) {
          errors.push({
            line: group[i]!.line,
            message: `prefix ${group[i]!.prefix} overlaps line ${group[j]!.line} in time: windows of one prefix must not overlap`,
          });
        }
      }
    }
  }
  return errors;
}

/** The minutes of the week a row applies in: 10,080 flags. */
function minutesOfWeek(row: RateRow): boolean[] {
  const week = new Array<boolean>(7 * MINUTES_PER_DAY).fill(false);
  for (let day = 0; day < 7; day++) {
    if ((row.weekdays & (1 << day)) === 0) continue;
    const { start, end } = row.hours ?? { start: 0, end: MINUTES_PER_DAY };
    const length = start < end ? end - start : MINUTES_PER_DAY - start + end;
    for (let minute = 0; minute < length; minute++) week[(day * MINUTES_PER_DAY + start + minute) % week.length] = true;
  }
  return week;
}

function parseWeekdays(text: string): number | null {
  if (text === '') return ALL_WEEK;
  let mask = 0;
  for (const part of text.toLowerCase().split(',')) {
    const [from, to = from] = part.trim().split('-') as [string, string?];
    const start = DAYS.indexOf(from as (typeof DAYS)[number]);
    const end = DAYS.indexOf(to as (typeof DAYS)[number]);
    if (start < 0 || end < 0) return null;
    for (let day = start; ; day = (day + 1) % 7) {
      mask |= 1 << day;
      if (day === end) break;
    }
  }
  return mask;
}

function formatWeekdays(mask: number): string {
  if (mask === ALL_WEEK) return '';
  return DAYS.filter((_, day) => (mask & (1 << day)) !== 0).join(',');
}

/** Undefined when malformed; null for the whole day. */
function parseHours(text: string): { start: number; end: number } | null | undefined {
  if (text === '') return null;
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [start, end] = [Number(match[1]) * 60 + Number(match[2]), Number(match[3]) * 60 + Number(match[4])];
  const valid = (minutes: number, hour: string, minute: string) => Number(hour) <= 24 && Number(minute) < 60 && minutes <= MINUTES_PER_DAY;
  if (!valid(start, match[1]!, match[2]!) || !valid(end, match[3]!, match[4]!) || start === end || start === MINUTES_PER_DAY) return undefined;
  return { start, end: end % MINUTES_PER_DAY === 0 && start > 0 ? MINUTES_PER_DAY : end };
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A value as an error message may quote it: short, without control characters. */
function shown(text: string): string {
  return text.replace(/\p{Cc}/gu, '?').slice(0, 40);
}

function quote(field: string): string {
  return /[",\n\r]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

type CsvRecord = { line: number; fields: string[] } | { line: number; fields: string[]; error: string };

/**
 * RFC 4180 records with their first line number: commas, quoted fields (with `""` and line breaks
 * inside), CRLF or LF. Small enough to keep here rather than pull a CSV package into the Worker.
 */
function splitCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let line = 1;
  let position = 0;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  while (position < body.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let error: string | undefined;
    for (;;) {
      if (body[position] === '"') {
        position++;
        for (;;) {
          if (position >= body.length) {
            error = 'a quoted field is not closed';
            break;
          }
          const char = body[position++]!;
          if (char === '"') {
            if (body[position] === '"') {
              field += '"';
              position++;
            } else break;
          } else {
            if (char === '\n') line++;
            field += char;
          }
        }
      }
      while (position < body.length && body[position] !== ',' && body[position] !== '\n' && body[position] !== '\r') field += body[position++];
      fields.push(field);
      field = '';
      if (body[position] === ',') {
        position++;
        continue;
      }
      if (body[position] === '\r') position++;
      if (body[position] === '\n') position++;
      line++;
      break;
    }
    records.push(error ? { line: start, fields, error } : { line: start, fields });
  }
  return records;
}
