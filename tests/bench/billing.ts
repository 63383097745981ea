/**
 * bench:billing, the rating core so far (issue 13): parse and validate a synthetic 100,000-row
 * rate deck, index it, and rate 1,000,000 synthetic calls against it, in this process (no
 * Postgres yet: persisting decks and rating CDRs in set-based SQL come next). Each figure is the
 * CPU time of this process (process.cpuUsage), over interleaved repeats so noise shows.
 *
 *   npm run bench:billing -- [--rows 100000] [--calls 1000000] [--repeats 5]
 */
import { parseArgs } from 'node:util';
import { formatRateDeck, parseRateDeck, type RateRow } from '../../edge/src/billing/rateDeck.ts';
import { RateIndex } from '../../edge/src/billing/rating.ts';
import { percentile } from './stack.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '100000' }, calls: { type: 'string', default: '1000000' }, repeats: { type: 'string', default: '5' } },
});
const ROWS = Number(values.rows);
const CALLS = Number(values.calls);
const REPEATS = Number(values.repeats);

/** A deterministic pseudo-random sequence, so every run rates the same calls. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function syntheticDeck(rows: number): string {
  const next = random(7);
  const seen = new Set<string>();
  const deck: RateRow[] = [];
  while (deck.length < rows) {
    const prefix = String(1 + Math.floor(next() * 9)) + String(Math.floor(next() * 10 ** (1 + Math.floor(next() * 6))));
    if (seen.has(prefix)) continue;
    seen.add(prefix);
    deck.push({
      prefix,
      destination: `Destination ${deck.length}`,
      pricePerMinute: Math.floor(next() * 200_000),
      connectFee: 0,
      initialSeconds: [1, 6, 60][deck.length % 3]!,
      incrementSeconds: [1, 6, 60][deck.length % 3]!,
      minimumCharge: 0,
      rounding: 'up',
      weekdays: 0b111_1111,
      hours: null,
      line: deck.length + 2,
    });
  }
  return formatRateDeck(deck);
}

function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const csv = syntheticDeck(ROWS);
const next = random(11);
const numbers = Array.from({ length: CALLS }, () => String(1 + Math.floor(next() * 9)) + String(Math.floor(next() * 1e10)).padStart(10, '0'));
const durations = Array.from({ length: CALLS }, () => Math.floor(next() * 600_000));
const answeredAt = new Date('2026-12-01T12:00:00Z');

console.log(`bench:billing: ${ROWS} deck rows (${(csv.length / 1e6).toFixed(1)} MB of CSV), ${CALLS} calls, ${REPEATS} repeats; in-process, no Postgres`);
const parseMs: number[] = [];
const indexMs: number[] = [];
const rateMs: number[] = [];
let rated = 0;
for (let repeat = 0; repeat < REPEATS; repeat++) {
  let rows: RateRow[] = [];
  parseMs.push(
    cpuMs(() => {
      const parsed = parseRateDeck(csv);
      if (!parsed.ok) throw new Error(`synthetic deck refused: ${JSON.stringify(parsed.errors.slice(0, 3))}`);
      rows = parsed.rows;
    }),
  );
  let index: RateIndex | null = null;
  indexMs.push(cpuMs(() => (index = new RateIndex({ version: 'bench', currency: 'EUR', effectiveFrom: new Date(0), blockAbovePerMinute: 500_000, rows }))));
  rated = 0;
  rateMs.push(
    cpuMs(() => {
      for (let i = 0; i < CALLS; i++) if (index!.rate(numbers[i]!, answeredAt, durations[i]!).kind === 'rated') rated++;
    }),
  );
}
const show = (name: string, samples: number[], per: number, unit: string) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  console.log(
    `${name.padEnd(22)} CPU ms p50 ${median.toFixed(0)}, min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}` +
      (per ? `; ${((per / median) * 1000).toFixed(0)} ${unit}/s at p50` : '') +
      `  [${samples.map((each) => each.toFixed(0)).join(', ')}]`,
  );
};
show('parse + validate deck', parseMs, ROWS, 'rows');
show('index deck', indexMs, 0, '');
show('rate calls', rateMs, CALLS, 'calls');
console.log(`${rated} of ${CALLS} calls matched a rate (the rest dial prefixes the synthetic deck lacks)`);
