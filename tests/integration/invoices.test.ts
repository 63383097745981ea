/**
 * Invoices against PostgreSQL and the edge: the periods the job finds due (an organisation behind
 * by two periods gets both, one per run), seat lines prorated by the days each person was active,
 * usage lines by person and destination, tax and totals that add up to the cent, numbers without
 * gaps, a run that dies before its commit or runs twice changing nothing, included minutes, a
 * deck correction carried once by the next invoice, and the admin routes (closing a period early,
 * listing, reading, who may).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { ErrorBody, InvoiceDetail, InvoiceList } from '@callstack/protocol';
import { parseRateDeck } from '../../edge/src/billing/rateDeck.ts';
import { insertRateDeck, rateCalls, rerate } from '../../edge/src/db/billing.ts';
import { buildInvoice, duePeriods, findInvoice, InvoiceExists } from '../../edge/src/db/invoices.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { api, createTenant, login, sentMail, type TestTenant, type TestUser } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

const NOW = new Date('2026-12-04T10:00:00Z');
const DAVE = 'Dave 🚀 Дэйв';
let tenant: TestTenant;

/** Runs `work` in a transaction on a connection of its own, as the job does. */
function inTransaction<T>(work: (client: Parameters<Parameters<typeof withClient>[1]>[0]) => Promise<T>): Promise<T> {
  return withClient(stack.database, async (client) => {
    await client.query('begin');
    try {
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  });
}

async function due(tenantId: string) {
  return (await withClient(stack.database, (client) => duePeriods(client, NOW, 10_000))).filter((period) => period.tenantId === tenantId);
}

async function invoice(id: string) {
  return (await withClient(stack.database, (client) => findInvoice(client, tenant.id, id)))!;
}

before(async () => {
  tenant = await createTenant();
  const { bob } = tenant.users;
  await withClient(stack.database, async (client) => {
    // The organisation began on 15 October; bob left on 16 November; 20% tax.
    await client.query(`update tenants set created_at = '2026-10-15T00:00:00Z' where id = $1`, [tenant.id]);
    await client.query(`update users set created_at = '2026-10-15T00:00:00Z' where tenant_id = $1`, [tenant.id]);
    await client.query(`update users set deactivated_at = '2026-11-16T00:00:00Z' where id = $1`, [bob.id]);
    // A name the PDF's font cannot draw in full.
    await client.query(`update users set display_name = $2 where id = $1`, [tenant.users.dave.id, DAVE]);
    await client.query(`insert into tenant_billing (tenant_id, plan_id, tax_rate_bp) values ($1, 'standard', 2000)`, [tenant.id]);
    // Bob's calls in November: 61 s to London, 30 s to a UK mobile, 120 s to London; one in December.
    const calls: [string, string, number][] = [
      ['2026-11-03T09:00:00Z', '+442079460958', 61_000],
      ['2026-11-04T09:00:00Z', '+447400123456', 30_000],
      ['2026-11-10T09:00:00Z', '+442079460959', 120_000],
      ['2026-12-02T09:00:00Z', '+442079460958', 600_000],
    ];
    const ids: string[] = [];
    for (const [at, destination, durationMs] of calls) {
      const callId = crypto.randomUUID();
      ids.push(callId);
      await client.query(
        `insert into pstn_call_records (call_id, tenant_id, user_id, direction, destination, created_at, answered_at, ended_at, duration_ms, final_status)
         values ($1, $2, $3, 'outbound', $4, $5, $5, $5::timestamptz + make_interval(secs => $6 / 1000.0), $6, 200)`,
        [callId, tenant.id, bob.id, destination, at, durationMs],
      );
    }
    await rateCalls(client, ids);
  });
});

describe('the invoice job', () => {
  test('an organisation behind by two periods gets both, in order, numbered 1 and 2, with prorated seats, usage by person and destination, and tax', async () => {
    const [october] = await due(tenant.id);
    assert.deepEqual([october?.start.toISOString(), october?.scheduledEnd.toISOString()], ['2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z']);
    const first = await inTransaction((client) => buildInvoice(client, tenant.id, october!.start, october!.scheduledEnd, NOW));

    const [november] = await due(tenant.id);
    assert.deepEqual([november?.start.toISOString(), november?.scheduledEnd.toISOString()], ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    const second = await inTransaction((client) => buildInvoice(client, tenant.id, november!.start, november!.scheduledEnd, NOW));
    assert.deepEqual(await due(tenant.id), [], 'December is not over');

    const { alice, bob, carol, dave } = tenant.users;
    const oct = await invoice(first);
    // 17 of October's 31 days at 15.00: 8.225806… is 8.23 a seat.
    assert.equal(oct.number, 1);
    assert.deepEqual(
      oct.lines.map((line) => [line.kind, line.userId, line.quantity, line.amount]),
      [alice, bob, carol, dave].map((user) => ['seat', user.id, 17, '8.23']),
    );
    assert.deepEqual([oct.subtotal, oct.taxRatePercent, oct.tax, oct.total, oct.currency, oct.status], ['32.92', '20', '6.58', '39.5', 'USD', 'draft']);

    const nov = await invoice(second);
    assert.equal(nov.number, 2);
    // Bob's seat for the 15 days before he left; his calls: London 61 s + 120 s (0.025417 + 0.05), the mobile 30 s (0.02).
    assert.deepEqual(
      nov.lines.map((line) => [line.kind, line.description, line.quantity, line.amount]),
      [
        ['seat', `Seat: ${alice.displayName}`, 30, '15'],
        ['seat', `Seat: ${bob.displayName}`, 15, '7.5'],
        ['seat', `Seat: ${carol.displayName}`, 30, '15'],
        ['seat', `Seat: ${DAVE}`, 30, '15'],
        ['usage', `${bob.displayName}: calls to United Kingdom`, 181, '0.08'],
        ['usage', `${bob.displayName}: calls to United Kingdom mobile`, 30, '0.02'],
      ],
    );
    const cents = (amount: string) => Math.round(Number(amount) * 100);
    assert.equal(
      nov.lines.reduce((sum, line) => sum + cents(line.amount), 0),
      cents(nov.subtotal),
    );
    assert.deepEqual([nov.subtotal, nov.tax, nov.total], ['52.6', '10.52', '63.12']);

    // Its PDF, as an admin downloads it: valid (pdftotext reads it) and saying the same.
    const response = await fetch(`${stack.url}/api/admin/billing/invoices/${second}/pdf`, {
      headers: { authorization: `Bearer ${(await login(alice)).accessToken}` },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(new TextDecoder().decode(bytes.slice(0, 5)), '%PDF-');
    const file = join(mkdtempSync(join(tmpdir(), 'invoice-')), 'invoice.pdf');
    writeFileSync(file, bytes);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    for (const expected of [
      'Invoice No. 2',
      'Period 2026-11-01 to 2026-12-01',
      `Seat: ${bob.displayName}`,
      'Seat: Dave ? ????',
      'Subtotal 52.60 USD',
      'Tax 20% 10.52 USD',
      'Total 63.12 USD',
    ]) {
      assert.ok(text.replace(/ +/g, ' ').includes(expected), `${expected} not in:\n${text}`);
    }

    // Kept as issued: the organisation renamed since, the download is the same document.
    await withClient(stack.database, (client) => client.query(`update tenants set name = name || ' (renamed)' where id = $1`, [tenant.id]));
    const again = await fetch(`${stack.url}/api/admin/billing/invoices/${second}/pdf`, {
      headers: { authorization: `Bearer ${(await login(alice)).accessToken}` },
    });
    assert.deepEqual(new Uint8Array(await again.arrayBuffer()), bytes);
  });

  test('a second run for a period, or a run that died before its commit, leaves one invoice and no gap in the numbers', async () => {
    const december = { start: new Date('2026-12-01T00:00:00Z'), end: new Date('2026-12-03T00:00:00Z') };
    await assert.rejects(
      inTransaction((client) => buildInvoice(client, tenant.id, new Date('2026-11-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'), NOW)),
      InvoiceExists,
    );
    // Dies after building everything, before the commit.
    await assert.rejects(
      inTransaction(async (client) => {
        await buildInvoice(client, tenant.id, december.start, december.end, NOW);
        throw new Error('the process died');
      }),
      /the process died/,
    );
    const id = await inTransaction((client) => buildInvoice(client, tenant.id, december.start, december.end, NOW));
    const rebuilt = await invoice(id);
    assert.equal(rebuilt.number, 3);
    assert.deepEqual(
      rebuilt.lines.filter((line) => line.kind === 'usage').map((line) => [line.quantity, line.amount]),
      [[600, '0.25']],
    );
    const numbers = await withClient(stack.database, async (client) => {
      const { rows } = await client.query<{ number: number }>('select number from invoices where tenant_id = $1 order by number', [tenant.id]);
      return rows.map((row) => row.number);
    });
    assert.deepEqual(numbers, [1, 2, 3]);
  });
});

describe('included minutes and corrections', () => {
  const DECK_HEADER = 'prefix,destination,price_per_minute,connect_fee,initial_seconds,increment_seconds,minimum_charge,rounding,weekdays,hours\n';

  async function deck(client: Parameters<Parameters<typeof withClient>[1]>[0], planId: string, pricePerMinute: string) {
    const parsed = parseRateDeck(`${DECK_HEADER}44,United Kingdom,${pricePerMinute},0,1,1,0,up,,\n`);
    assert.ok(parsed.ok);
    await insertRateDeck(client, {
      id: `deck-${crypto.randomUUID()}`,
      planId,
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      blockAboveMicros: 500_000,
      rows: parsed.rows,
    });
  }

  test('the plan’s minutes cover the first calls of the period; a later deck correction is carried once by the next invoice, as a credit', async () => {
    const bundled = await createTenant();
    const planId = `bundle-${crypto.randomUUID().slice(0, 8)}`;
    const september = { start: new Date('2026-09-01T00:00:00Z'), end: new Date('2026-10-01T00:00:00Z') };
    await withClient(stack.database, async (client) => {
      // A minute a person (four people, all month) and two for the organisation: 360 s; 15.00 a seat.
      await client.query(
        `insert into billing_plans (id, name, currency, seat_price_micros, included_minutes_per_seat, included_minutes_per_tenant) values ($1, 'Bundle', 'USD', 15000000, 1, 2)`,
        [planId],
      );
      await deck(client, planId, '0.025');
      await client.query(`insert into tenant_billing (tenant_id, plan_id) values ($1, $2)`, [bundled.id, planId]);
      await client.query(`update tenants set created_at = $2 where id = $1`, [bundled.id, september.start]);
      await client.query(`update users set created_at = $2 where tenant_id = $1`, [bundled.id, september.start]);
      // 300 s, then 120 s to London at 0.025 a minute by the second: 0.125 and 0.05.
      const ids = [];
      for (const [at, seconds] of [
        ['2026-09-03T09:00:00Z', 300],
        ['2026-09-04T09:00:00Z', 120],
      ] as const) {
        const callId = crypto.randomUUID();
        ids.push(callId);
        await client.query(
          `insert into pstn_call_records (call_id, tenant_id, user_id, direction, destination, created_at, answered_at, ended_at, duration_ms, final_status)
           values ($1, $2, $3, 'outbound', '+442079460958', $4, $4, $4::timestamptz + make_interval(secs => $5), $5 * 1000, 200)`,
          [callId, bundled.id, bundled.users.bob.id, at, seconds],
        );
      }
      await rateCalls(client, ids);
    });

    const sept = (await withClient(stack.database, async (client) => {
      const id = await inTransaction((tx) => buildInvoice(tx, bundled.id, september.start, september.end, NOW));
      return findInvoice(client, bundled.id, id);
    }))!;
    // The first 300 s and 60 of the next 120: 0.125 + 0.025 covered, of 0.175 (0.18 to the cent).
    assert.deepEqual(
      sept.lines.filter((line) => line.kind !== 'seat').map((line) => [line.kind, line.description, line.quantity, line.amount]),
      [
        ['usage', `${bundled.users.bob.displayName}: calls to United Kingdom`, 420, '0.18'],
        ['included', 'Included minutes: 6 of 6 used', 360, '-0.15'],
      ],
    );
    assert.deepEqual([sept.subtotal, sept.total], ['60.03', '60.03']);

    // The deck is corrected after September was invoiced: London at half the price.
    const corrected = await withClient(stack.database, async (client) => {
      await deck(client, planId, '0.0125');
      return rerate(client, `correction-${planId}`, bundled.id, september.start, september.end);
    });
    assert.deepEqual(corrected, { calls: 2, deltaMicros: -87_500 });
    const october = await withClient(stack.database, async (client) => {
      const id = await inTransaction((tx) => buildInvoice(tx, bundled.id, september.end, new Date('2026-11-01T00:00:00Z'), NOW));
      return findInvoice(client, bundled.id, id);
    });
    assert.deepEqual(
      october!.lines.filter((line) => line.kind !== 'seat').map((line) => [line.kind, line.description, line.quantity, line.unit, line.amount]),
      [['correction', 'Corrections: calls of earlier periods re-rated', 2, 'calls', '-0.09']],
    );
    assert.equal(october!.subtotal, '59.91');
    // Carried once: the next invoice has no correction.
    const november = await withClient(stack.database, async (client) => {
      const id = await inTransaction((tx) => buildInvoice(tx, bundled.id, new Date('2026-11-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'), NOW));
      return findInvoice(client, bundled.id, id);
    });
    assert.deepEqual(
      november!.lines.map((line) => line.kind),
      ['seat', 'seat', 'seat', 'seat'],
    );
  });
});

describe('the invoice routes', () => {
  const as = async <T>(user: TestUser, method: string, path: string) => api<T>(method, path, { auth: (await login(user)).accessToken });

  test('an admin closes the running period and finds the invoice; a second close at once is refused; operators read; users neither; another organisation’s is not there', async () => {
    const fresh = await createTenant();
    // Its period began ten days ago or more (the anchor day then), so it has run an hour whatever the day of the month.
    const anchor = Math.min(28, new Date(Date.now() - 10 * 86_400_000).getUTCDate());
    await withClient(stack.database, (client) =>
      client.query(`insert into tenant_billing (tenant_id, plan_id, anchor_day) values ($1, 'standard', $2)`, [fresh.id, anchor]),
    );
    const { alice, bob, carol } = fresh.users;
    const closed = await as<InvoiceDetail>(alice, 'POST', '/api/admin/billing/close-period');
    assert.equal(closed.status, 201, JSON.stringify(closed.body));
    assert.equal(closed.body.number, 1);
    assert.ok(Date.parse(closed.body.periodEnd) <= Date.now());
    // Its people joined just now: their seats cost (next to) nothing yet.
    assert.ok(
      closed.body.lines.every((line) => line.kind === 'seat' && line.amount === '0'),
      JSON.stringify(closed.body.lines),
    );

    // The admin gets it by mail, with its PDF.
    const deadline = Date.now() + 15_000;
    let mail = sentMail(alice.email).find((each) => each.subject.includes('invoice No. 1'));
    while (!mail && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      mail = sentMail(alice.email).find((each) => each.subject.includes('invoice No. 1'));
    }
    assert.ok(mail, 'no invoice mail');
    assert.deepEqual(
      mail.attachments.map((file) => [/^invoice-test-[0-9a-f]{8}-1\.pdf$/.test(file.filename), file.contentType]),
      [[true, 'application/pdf']],
    );
    assert.match(execFileSync('pdftotext', [mail.attachments[0]!.path, '-'], { encoding: 'utf8' }), /Invoice No\. 1/);
    // The download is the document that was mailed, byte for byte.
    const download = await fetch(`${stack.url}/api/admin/billing/invoices/${closed.body.id}/pdf`, {
      headers: { authorization: `Bearer ${(await login(carol)).accessToken}` },
    });
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), new Uint8Array(readFileSync(mail.attachments[0]!.path)));

    const again = await as<ErrorBody>(alice, 'POST', '/api/admin/billing/close-period');
    assert.deepEqual([again.status, again.body.error.code], [409, 'conflict']);
    const listed = await as<InvoiceList>(carol, 'GET', '/api/admin/billing/invoices');
    assert.deepEqual(
      listed.body.invoices.map((each) => each.id),
      [closed.body.id],
    );
    assert.equal((await as<InvoiceDetail>(carol, 'GET', `/api/admin/billing/invoices/${closed.body.id}`)).body.id, closed.body.id);
    assert.equal((await as(carol, 'POST', '/api/admin/billing/close-period')).status, 403);
    assert.equal((await as(bob, 'GET', '/api/admin/billing/invoices')).status, 403);
    assert.equal((await as(tenant.users.alice, 'GET', `/api/admin/billing/invoices/${closed.body.id}`)).status, 404);
  });
});
