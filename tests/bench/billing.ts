/**
 * bench:billing: the rating core in two halves, each figure over interleaved repeats so noise shows.
 *
 * In this process: parse and validate a synthetic 100,000-row rate deck, index it, and rate
 * 1,000,000 synthetic calls against it with the pure model (CPU time of this process).
 *
 * On a local PostgreSQL (the same Debian cluster the tests use): store the deck as the edge's
 * `npm run billing -- import-deck` does, then charge 1,000,000 ended call records in the set-based
 * SQL the edge runs (`rateCalls`, a batch of call ids per statement): CDRs rated per second, the
 * round trips per 1,000 CDRs, and the CPU the Postgres processes used (from /proc). Then the
 * invoice run for 10,000 tenants of 3 people and 10 rated calls each, one invoice per tenant in a
 * transaction of its own as the Cron Trigger's job builds them: run time, invoices per second,
 * round trips per invoice.
 *
 *   npm run bench:billing -- [--rows 100000] [--calls 1000000] [--repeats 5] [--batch 10000] [--tenants 10000] [--no-postgres]
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatRateDeck, parseRateDeck, type RateRow } from '../../edge/src/billing/rateDeck.ts';
import { RateIndex } from '../../edge/src/billing/rating.ts';
import { insertRateDeck, rateCalls } from '../../edge/src/db/billing.ts';
import { buildInvoice, duePeriods } from '../../edge/src/db/invoices.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { startPostgres } from '../../scripts/lib/postgres.ts';
import { ensureDir } from '../../scripts/lib/processes.ts';
import { prepareDatabase, ROOT } from '../../scripts/lib/stack.ts';
import { report } from './report.ts';
import { percentile } from './stack.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    calls: { type: 'string', default: '1000000' },
    repeats: { type: 'string', default: '5' },
    batch: { type: 'string', default: '10000' },
    tenants: { type: 'string', default: '10000' },
    'no-postgres': { type: 'boolean', default: false },
  },
});
const BATCH = Number(values.batch);
const TENANTS = Number(values.tenants);
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
report([
  {
    bench: 'billing',
    name: 'calls rated per second in memory',
    value:
      (CALLS /
        percentile(
          [...rateMs].sort((a, b) => a - b),
          50,
        )) *
      1000,
    unit: '/s',
    conditions: `${ROWS}-row deck, p50 of ${REPEATS}`,
  },
]);
console.log(`${rated} of ${CALLS} calls matched a rate (the rest dial prefixes the synthetic deck lacks)`);

if (!values['no-postgres']) await postgresHalf();

/** CPU seconds (user + system) of every process named `postgres` now alive, from /proc. */
function postgresCpuSeconds(): number {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

async function postgresHalf(): Promise<void> {
  const tmp = join(ROOT, '.tmp', 'bench-billing');
  rmSync(tmp, { recursive: true, force: true });
  const postgres = await startPostgres(join(ensureDir(join(tmp, 'logs')), 'postgres.log'));
  const relay = await prepareDatabase(postgres);
  try {
    await withClient({ databaseUrl: postgres.url, relayUrl: relay.url }, async (client) => {
      let roundTrips = 0;
      const db = {
        query: ((...args: Parameters<typeof client.query>) => {
          roundTrips++;
          return client.query(...args);
        }) as typeof client.query,
      };
      await client.query(`insert into billing_plans (id, name, currency, seat_price_micros) values ('bench', 'Bench', 'EUR', 0)`);
      const parsed = parseRateDeck(csv);
      if (!parsed.ok) throw new Error('synthetic deck refused');
      let started = performance.now();
      roundTrips = 0;
      await client.query('begin');
      await insertRateDeck(db, { id: 'bench-deck', planId: 'bench', effectiveFrom: new Date(0), blockAboveMicros: 500_000, rows: parsed.rows });
      await client.query('commit');
      await client.query('analyze rate_deck_rows');
      const deckSeconds = (performance.now() - started) / 1000;
      console.log(`\nPostgreSQL: deck of ${parsed.rows.length} rows stored in ${deckSeconds.toFixed(1)} s, ${roundTrips} round trips`);
      report([{ bench: 'billing', name: `store a ${parsed.rows.length}-row rate deck`, value: deckSeconds, unit: 's', conditions: 'PostgreSQL' }]);

      // 100 tenants on the bench plan, CALLS ended calls among them (set-based setup, not measured).
      started = performance.now();
      await client.query(`insert into tenants (id, slug, name) select 'bench-' || n, 'bench-' || n, 'Bench ' || n from generate_series(1, 100) n`);
      await client.query(`insert into tenant_billing (tenant_id, plan_id) select 'bench-' || n, 'bench' from generate_series(1, 100) n`);
      await client.query(
        `insert into pstn_call_records (call_id, tenant_id, direction, destination, created_at, answered_at, ended_at, duration_ms, final_status)
         select 'call-' || n, 'bench-' || (1 + n % 100), 'outbound',
                '+' || (1 + n % 9)::text || lpad(((n::bigint * 2654435761) % 10000000000)::text, 10, '0'),
                at, at, at + make_interval(secs => d / 1000.0), d, 200
           from generate_series(1, $1::int) n,
                lateral (select timestamptz '2026-12-01T12:00:00Z' + make_interval(secs => n % 86400) as at, (n::bigint * 7919) % 600000 as d) x`,
        [CALLS],
      );
      await client.query('analyze pstn_call_records');
      console.log(`${CALLS} ended call records written in ${((performance.now() - started) / 1000).toFixed(1)} s (setup)`);

      const ids = Array.from({ length: CALLS }, (_, i) => `call-${i + 1}`);
      const perSecond: number[] = [];
      const cpuPerThousand: number[] = [];
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        await client.query('truncate call_charges cascade');
        roundTrips = 0;
        const cpuBefore = postgresCpuSeconds();
        const before = performance.now();
        let charged = 0;
        for (let start = 0; start < ids.length; start += BATCH) charged += (await rateCalls(db, ids.slice(start, start + BATCH))).length;
        const seconds = (performance.now() - before) / 1000;
        const cpu = postgresCpuSeconds() - cpuBefore;
        if (charged !== CALLS) throw new Error(`charged ${charged} of ${CALLS}`);
        perSecond.push(CALLS / seconds);
        cpuPerThousand.push((cpu * 1000 * 1000) / CALLS);
        console.log(
          `repeat ${repeat + 1}: ${CALLS} CDRs rated in ${seconds.toFixed(1)} s (${Math.round(CALLS / seconds)}/s), ` +
            `${((roundTrips * 1000) / CALLS).toFixed(2)} round trips per 1,000 CDRs, Postgres CPU ${((cpu * 1e6) / CALLS).toFixed(0)} µs per CDR`,
        );
      }
      const sorted = [...perSecond].sort((a, b) => a - b);
      report([
        {
          bench: 'billing',
          name: 'CDRs rated per second in SQL',
          value: percentile(sorted, 50),
          unit: '/s',
          conditions: `${CALLS} CDRs, ${ROWS}-row deck, p50 of ${REPEATS}`,
        },
        { bench: 'billing', name: 'Postgres round trips per 1,000 CDRs', value: (roundTrips * 1000) / CALLS, unit: '', conditions: `batches of ${BATCH}` },
      ]);
      console.log(
        `rate CDRs in SQL: p50 ${Math.round(percentile(sorted, 50))}/s, min ${Math.round(sorted[0]!)}, max ${Math.round(sorted.at(-1)!)}; ` +
          `Postgres CPU p50 ${percentile(
            [...cpuPerThousand].sort((a, b) => a - b),
            50,
          ).toFixed(0)} ms per 1,000 CDRs; batches of ${BATCH}`,
      );
      // Rating twice changes nothing: a second pass charges none.
      let again = 0;
      for (let start = 0; start < ids.length; start += BATCH) again += (await rateCalls(db, ids.slice(start, start + BATCH))).length;
      console.log(`a second pass over the same CDRs charged ${again} (idempotent)`);

      // The invoice run: TENANTS organisations that began in October, invoiced for October.
      await client.query(
        `insert into tenants (id, slug, name, created_at) select 'inv-' || n, 'inv-' || n, 'Invoiced ' || n, '2026-10-05T00:00:00Z' from generate_series(1, $1::int) n`,
        [TENANTS],
      );
      await client.query(
        `insert into users (id, tenant_id, email, display_name, role, password_hash, created_at)
         select 'inv-' || n || '-' || k, 'inv-' || n, 'inv-' || n || '-' || k || '@bench.test', 'Person ' || k, 'user', 'none', '2026-10-05T00:00:00Z'
           from generate_series(1, $1::int) n, generate_series(1, 3) k`,
        [TENANTS],
      );
      await client.query(
        `insert into pstn_call_records (call_id, tenant_id, user_id, direction, destination, created_at, answered_at, ended_at, duration_ms, final_status)
         select 'inv-call-' || n || '-' || k, 'inv-' || n, 'inv-' || n || '-' || (1 + k % 3), 'outbound', '+4420794' || lpad(k::text, 5, '0'),
                at, at, at + interval '90 seconds', 90000, 200
           from generate_series(1, $1::int) n, generate_series(1, 10) k, lateral (select timestamptz '2026-10-20T12:00:00Z' + make_interval(mins => k) as at) x`,
        [TENANTS],
      );
      const invoiceCalls = (await client.query<{ call_id: string }>(`select call_id from pstn_call_records where call_id like 'inv-call-%'`)).rows.map(
        (row) => row.call_id,
      );
      for (let start = 0; start < invoiceCalls.length; start += BATCH) await rateCalls(client, invoiceCalls.slice(start, start + BATCH));
      await client.query('analyze');
      const now = new Date('2026-12-04T10:00:00Z');
      roundTrips = 0;
      const cpuBefore = postgresCpuSeconds();
      const before = performance.now();
      let invoiced = 0;
      for (;;) {
        const due = (await duePeriods(db, now, 500)).filter((period) => period.tenantId.startsWith('inv-') && period.start.getUTCMonth() === 9);
        if (due.length === 0) break;
        for (const period of due) {
          await db.query('begin');
          await buildInvoice(db, period.tenantId, period.start, period.scheduledEnd, now);
          await db.query('commit');
          invoiced++;
        }
      }
      const seconds = (performance.now() - before) / 1000;
      const cpu = postgresCpuSeconds() - cpuBefore;
      const lines = (await client.query<{ count: string }>(`select count(*) from invoice_lines where invoice_id like 'inv-inv-%'`)).rows[0]!.count;
      report([
        { bench: 'billing', name: 'invoice run', value: seconds, unit: 's', conditions: `${invoiced} tenants` },
        { bench: 'billing', name: 'Postgres round trips per invoice', value: roundTrips / invoiced, unit: '', conditions: `${invoiced} tenants` },
      ]);
      console.log(
        `\ninvoice run: ${invoiced} invoices (${lines} lines) in ${seconds.toFixed(1)} s, ${Math.round(invoiced / seconds)} invoices/s, ` +
          `${(roundTrips / invoiced).toFixed(1)} round trips per invoice (the due query included), Postgres CPU ${((cpu * 1000) / invoiced).toFixed(1)} ms per invoice`,
      );
    });
  } finally {
    await relay.close();
    await postgres.stop();
  }
}
