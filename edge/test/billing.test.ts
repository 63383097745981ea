import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divideRounded, formatMicros, parseMicros } from '../src/billing/money.ts';
import { formatRateDeck, parseRateDeck, RATE_DECK_HEADER, type RateRow } from '../src/billing/rateDeck.ts';
import { billedSecondsOf, costOf, deckInForce, RateIndex, type RateDeck } from '../src/billing/rating.ts';

const HEADER = RATE_DECK_HEADER.join(',');

function deckOf(...lines: string[]): RateRow[] {
  const parsed = parseRateDeck([HEADER, ...lines].join('\n'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.rows;
}

function errorsOf(...lines: string[]) {
  const parsed = parseRateDeck([HEADER, ...lines].join('\n'));
  expect(parsed.ok).toBe(false);
  return parsed.ok ? [] : parsed.errors;
}

function index(rows: RateRow[], blockAbovePerMinute = 500_000): RateIndex {
  const deck: RateDeck = { version: 'v1', currency: 'EUR', effectiveFrom: new Date(0), blockAbovePerMinute, rows };
  return new RateIndex(deck);
}

describe('money', () => {
  it('parses decimals into whole micros and back, refusing signs, exponents and more than six places', () => {
    expect(parseMicros('0.0125')).toBe(12_500);
    expect(parseMicros('12')).toBe(12_000_000);
    expect(parseMicros('0.000001')).toBe(1);
    for (const bad of ['-1', '1e3', '0.0000001', ' 1', '1,5', '', '.5', 'NaN']) expect(parseMicros(bad), bad).toBeNull();
    expect(formatMicros(12_500)).toBe('0.0125');
    expect(formatMicros(3_000_000)).toBe('3');
  });

  it('formatting and parsing are inverse for every amount', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000_000_000 }), (micros) => parseMicros(formatMicros(micros)) === micros));
  });

  it('rounds a quotient up, down or half up', () => {
    expect([divideRounded(7, 2, 'up'), divideRounded(7, 2, 'down'), divideRounded(7, 2, 'half-up')]).toEqual([4, 3, 4]);
    expect([divideRounded(10, 4, 'half-up'), divideRounded(9, 4, 'half-up'), divideRounded(8, 4, 'up')]).toEqual([3, 2, 2]);
  });
});

describe('rate deck CSV', () => {
  it('reads rows with increments, windows and quoted names', () => {
    const [uk, london] = deckOf('44,United Kingdom,0.0100,0,60,60,0,up,,', '4420,"London, UK",0.008,0.01,1,1,0.02,half-up,mon-fri,08:00-18:00');
    expect(uk).toMatchObject({ prefix: '44', pricePerMinute: 10_000, initialSeconds: 60, incrementSeconds: 60, weekdays: 0b111_1111, hours: null, line: 2 });
    expect(london).toMatchObject({
      destination: 'London, UK',
      connectFee: 10_000,
      minimumCharge: 20_000,
      rounding: 'half-up',
      weekdays: 0b011_1110,
      hours: { start: 480, end: 1080 },
    });
  });

  it('names the line and the field of every bad row, and stores none of the deck', () => {
    const errors = errorsOf(
      '44,United Kingdom,0.01,0,60,60,0,up,,',
      '+44,UK,0.01,0,60,60,0,up,,',
      '33,France,-0.01,0,60,60,0,up,,',
      '49,Germany,0.01,0,0,60,0,up,,',
      '34,Spain,0.01,0,60,60,0,sideways,,',
      '39,Italy,0.01,0,60,60,0,up,someday,',
      '31,Netherlands,0.01,0,60,60,0,up,,25:00-26:00',
      '32,Belgium,0.01',
    );
    expect(errors.map((error) => error.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(errors[0]!.message).toMatch(/prefix "\+44"/);
    expect(errors[1]!.message).toMatch(/price_per_minute "-0.01"/);
    expect(errors[2]!.message).toMatch(/initial_seconds/);
    expect(errors[3]!.message).toMatch(/rounding "sideways"/);
    expect(errors[6]!.message).toMatch(/expected 10 fields, found 3/);
  });

  it('refuses windows of one prefix that overlap, and a missing header or an unclosed quote', () => {
    const [overlap] = errorsOf('44,UK peak,0.02,0,60,60,0,up,mon-fri,08:00-18:00', '44,UK evenings,0.01,0,60,60,0,up,,17:00-08:00');
    expect(overlap).toEqual({ line: 3, message: expect.stringMatching(/overlaps line 2/) });
    // Peak and off-peak that only touch are fine, also across midnight.
    expect(deckOf('44,UK peak,0.02,0,60,60,0,up,,08:00-18:00', '44,UK off-peak,0.01,0,60,60,0,up,,18:00-08:00')).toHaveLength(2);
    expect(parseRateDeck('prefix,price\n44,0.01')).toMatchObject({ ok: false, errors: [{ line: 1 }] });
    expect(errorsOf('44,"United Kingdom,0.01,0,60,60,0,up,,')[0]).toMatchObject({ line: 2, message: expect.stringMatching(/quoted field/) });
    expect(errorsOf()[0]!.message).toMatch(/no rows/);
  });

  it('exports what it imports: the CSV of any valid deck parses back to the same rows', () => {
    const row = fc.record({
      prefix: fc.stringMatching(/^[1-9]\d{0,7}$/),
      destination: fc.string({ minLength: 1, maxLength: 30 }).filter((name) => name.trim() === name && name.length > 0 && !/\p{Cc}/u.test(name)),
      pricePerMinute: fc.integer({ min: 0, max: 5_000_000 }),
      connectFee: fc.integer({ min: 0, max: 100_000 }),
      initialSeconds: fc.constantFrom(1, 6, 30, 60),
      incrementSeconds: fc.constantFrom(1, 6, 60),
      minimumCharge: fc.integer({ min: 0, max: 100_000 }),
      rounding: fc.constantFrom('up' as const, 'down' as const, 'half-up' as const),
      weekdays: fc.constant(0b111_1111),
      hours: fc.constant(null),
    });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (each) => each.prefix, minLength: 1, maxLength: 20 }), (rows) => {
        const withLines = rows.map((each, i) => ({ ...each, line: i + 2 }));
        expect(parseRateDeck(formatRateDeck(withLines))).toEqual({ ok: true, rows: withLines });
      }),
    );
  });
});

describe('rating', () => {
  const row = (initialSeconds: number, incrementSeconds: number) => ({ initialSeconds, incrementSeconds });

  it('bills seconds by the increments of the field: 60/60, 6/6, 1/1 and 60/1', () => {
    expect([1, 60, 61, 121].map((s) => billedSecondsOf(row(60, 60), s * 1000))).toEqual([60, 60, 120, 180]);
    expect([1, 7, 13].map((s) => billedSecondsOf(row(6, 6), s * 1000))).toEqual([6, 12, 18]);
    expect([1, 61].map((s) => billedSecondsOf(row(1, 1), s * 1000))).toEqual([1, 61]);
    expect([30, 61].map((s) => billedSecondsOf(row(60, 1), s * 1000))).toEqual([60, 61]);
    expect(billedSecondsOf(row(60, 60), 60_001)).toBe(120);
    expect(billedSecondsOf(row(60, 60), 0)).toBe(0);
  });

  it('costs the connect fee plus the price of the billed seconds, rounded once, at least the minimum', () => {
    const price = { pricePerMinute: 10_000, connectFee: 0, minimumCharge: 0, rounding: 'up' as const };
    expect(costOf(price, 60)).toBe(10_000);
    expect(costOf(price, 61)).toBe(10_167);
    expect(costOf({ ...price, rounding: 'down' }, 61)).toBe(10_166);
    expect(costOf({ ...price, connectFee: 5_000 }, 6)).toBe(6_000);
    expect(costOf({ ...price, minimumCharge: 20_000 }, 60)).toBe(20_000);
    expect(costOf({ ...price, minimumCharge: 20_000 }, 0)).toBe(0);
  });

  it('a longer call never costs less, whatever the row', () => {
    fc.assert(
      fc.property(
        fc.record({
          pricePerMinute: fc.integer({ min: 0, max: 10_000_000 }),
          connectFee: fc.integer({ min: 0, max: 100_000 }),
          minimumCharge: fc.integer({ min: 0, max: 100_000 }),
          rounding: fc.constantFrom('up' as const, 'down' as const, 'half-up' as const),
          initialSeconds: fc.integer({ min: 1, max: 120 }),
          incrementSeconds: fc.integer({ min: 1, max: 60 }),
        }),
        fc.integer({ min: 0, max: 7_200_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        (rate, durationMs, more) => costOf(rate, billedSecondsOf(rate, durationMs + more)) >= costOf(rate, billedSecondsOf(rate, durationMs)),
      ),
    );
  });

  it('matches the longest prefix in force at the answer time, and blocks what is priced above the limit', () => {
    const rates = index(
      deckOf(
        '44,United Kingdom,0.01,0,60,60,0,up,,',
        '447,UK mobile peak,0.05,0,60,60,0,up,mon-fri,08:00-18:00',
        '447,UK mobile off-peak,0.03,0,60,60,0,up,,18:00-08:00',
        '447,UK mobile weekend,0.02,0,60,60,0,up,sat-sun,08:00-18:00',
        '4490,UK premium,1.50,0,60,60,0,up,,',
      ),
    );
    const tuesdayNoon = new Date('2026-12-01T12:00:00Z');
    const tuesdayNight = new Date('2026-12-01T23:30:00Z');
    const saturdayNoon = new Date('2026-12-05T12:00:00Z');
    expect(rates.match('+442079460958', tuesdayNoon)?.destination).toBe('United Kingdom');
    expect(rates.match('+447700900123', tuesdayNoon)?.destination).toBe('UK mobile peak');
    expect(rates.match('447700900123', tuesdayNight)?.destination).toBe('UK mobile off-peak');
    // Saturday 03:00 is still Friday's night window.
    expect(rates.match('447700900123', new Date('2026-12-05T03:00:00Z'))?.destination).toBe('UK mobile off-peak');
    expect(rates.match('447700900123', saturdayNoon)?.destination).toBe('UK mobile weekend');
    expect(rates.match('+33123456789', tuesdayNoon)).toBeNull();
    expect(rates.rate('+33123456789', tuesdayNoon, 60_000)).toEqual({ kind: 'unrated', reason: 'no-rate' });
    expect(rates.blocked(rates.match('+449012345678', tuesdayNoon)!)).toBe(true);
    expect(rates.rate('+449012345678', tuesdayNoon, 60_000)).toMatchObject({ kind: 'rated', prefix: '4490', cost: 1_500_000 });
    expect(rates.rate('+447700900123', tuesdayNoon, 90_000)).toMatchObject({ kind: 'rated', prefix: '447', billedSeconds: 120, cost: 100_000 });
  });

  it('takes the deck that was in force when the call was answered, so a new deck changes no history', () => {
    const decks = [
      { effectiveFrom: new Date('2026-01-01T00:00:00Z'), version: 'a' },
      { effectiveFrom: new Date('2026-12-01T00:00:00Z'), version: 'b' },
    ];
    expect(deckInForce(decks, new Date('2026-11-30T23:59:59Z'))?.version).toBe('a');
    expect(deckInForce(decks, new Date('2026-12-01T00:00:00Z'))?.version).toBe('b');
    expect(deckInForce(decks, new Date('2025-12-31T00:00:00Z'))).toBeNull();
  });
});
