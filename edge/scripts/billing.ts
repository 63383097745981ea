/**
 * `npm run billing -- <command>`: the platform operator's billing commands, against DATABASE_URL
 * (through NEON_WS_PROXY if set).
 *
 *   import-deck --plan standard --file deck.csv --effective 2027-01-01T00:00:00Z [--block-above 0.5]
 *       Validates the whole CSV (rateDeck.ts documents the format) and stores it as a new deck of
 *       the plan, in force from --effective: every row or none, errors with their line numbers.
 *       A deck with the date of an earlier one corrects it (the newer wins from then on).
 *   rerate --tenant <id> --from 2026-11-01 --to 2026-12-01 [--run <id>]
 *       Rates the tenant's charged calls that started in [from, to) again against the decks in
 *       force now, and stores each difference as an adjustment of the run (one statement: all or
 *       nothing). Differences are taken against what was charged so far, adjustments included, so
 *       a second run adds nothing unless a deck changed again, and a run id given twice is applied once.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatMicros, parseMicros } from '../src/billing/money.ts';
import { importRateDeck } from '../src/billing/deckImport.ts';
import { rerate } from '../src/db/billing.ts';
import { withClient, type DatabaseTarget } from './migrations.ts';

const DEFAULT_BLOCK_ABOVE = '0.5';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function target(): DatabaseTarget {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) fail('DATABASE_URL is not set (the Neon connection string, or a local Postgres URL with NEON_WS_PROXY)');
  return { databaseUrl, ...(process.env.NEON_WS_PROXY ? { relayUrl: process.env.NEON_WS_PROXY } : {}) };
}

function date(text: string | undefined, name: string): Date {
  const parsed = text ? new Date(text) : new Date(NaN);
  if (Number.isNaN(parsed.getTime())) fail(`--${name} must be a date such as 2027-01-01 or 2027-01-01T00:00:00Z`);
  return parsed;
}

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    plan: { type: 'string' },
    file: { type: 'string' },
    effective: { type: 'string' },
    'block-above': { type: 'string', default: DEFAULT_BLOCK_ABOVE },
    tenant: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    run: { type: 'string' },
  },
});

switch (command) {
  case 'import-deck': {
    if (!values.plan || !values.file) fail('import-deck needs --plan and --file');
    const effectiveFrom = date(values.effective, 'effective');
    const blockAboveMicros = parseMicros(values['block-above']!);
    if (blockAboveMicros === null) fail('--block-above must be an amount such as 0.5');
    const csv = await readFile(values.file, 'utf8');
    const started = performance.now();
    const result = await withClient(target(), async (client) => {
      await client.query('begin');
      try {
        const imported = await importRateDeck(client, { planId: values.plan!, effectiveFrom, blockAboveMicros, csv });
        await client.query(imported.ok ? 'commit' : 'rollback');
        return imported;
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
    });
    if (!result.ok && result.problem === 'no_plan') fail(`there is no plan ${values.plan}`);
    if (!result.ok) {
      for (const error of result.errors) console.error(`line ${error.line}: ${error.message}`);
      fail(`the deck was not imported: ${result.errors.length} ${result.errors.length === 1 ? 'error' : 'errors'}`);
    }
    console.log(
      `deck ${result.id}: ${result.rows} rows, in force from ${effectiveFrom.toISOString()}, stored in ${Math.round(performance.now() - started)} ms`,
    );
    break;
  }
  case 'rerate': {
    if (!values.tenant) fail('rerate needs --tenant');
    const [from, to] = [date(values.from, 'from'), date(values.to, 'to')];
    const runId = values.run ?? crypto.randomUUID();
    const result = await withClient(target(), (client) => rerate(client, runId, values.tenant!, from, to));
    const sign = result.deltaMicros < 0 ? '-' : '';
    console.log(`run ${runId}: ${result.calls} calls changed, difference ${sign}${formatMicros(Math.abs(result.deltaMicros))}`);
    break;
  }
  default:
    fail('usage: npm run billing -- import-deck | rerate (see edge/scripts/billing.ts)');
}
