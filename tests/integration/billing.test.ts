/**
 * Billing against the real edge and PostgreSQL: rating in SQL matches the pure model (a property
 * over generated decks and calls), rating is idempotent, a call to the outside is charged when its
 * end is reported, spend caps refuse calls and shorten them (billing's `authorize` in the call
 * path), the admins hear at 80% and 100%, re-rating after a deck correction adds differences only,
 * and the admin routes (who may see and change what, bad input).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BillingView, ErrorBody, PstnCallEvent, PstnPolicy, SipRouteAnswer, SpendLimits, UsageReport } from '@callstack/protocol';
import fc from 'fast-check';
import { formatMicros } from '../../edge/src/billing/money.ts';
import { parseRateDeck } from '../../edge/src/billing/rateDeck.ts';
import { RateIndex } from '../../edge/src/billing/rating.ts';
import { insertRateDeck, rateCalls, rerate } from '../../edge/src/db/billing.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { demoSipCredentials } from '../../edge/scripts/seed.ts';
import { api, createTenant, login, sentMail, type TestTenant, type TestUser } from '../lib/fixtures.ts';
import { SipGatewayStub } from '../lib/SipGatewayStub.ts';
import { stack } from '../lib/stack.ts';

const SEED = Number(process.env.CALLSTACK_FUZZ_SEED === 'random' ? Date.now() : (process.env.CALLSTACK_FUZZ_SEED ?? 42));

let gateway: SipGatewayStub;
let tenant: TestTenant;
const tokens = new Map<TestUser, string>();

before(async () => {
  gateway = await SipGatewayStub.start(stack.url, stack.mediaSecret);
  tenant = await createTenant();
});
after(async () => {
  await gateway.close();
});

async function as<T>(user: TestUser, method: string, path: string, body?: unknown) {
  if (!tokens.has(user)) tokens.set(user, (await login(user)).accessToken);
  return api<T>(method, path, { auth: tokens.get(user)!, body });
}

function assertError(answer: { status: number; body: unknown }, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal((answer.body as ErrorBody).error.code, code);
}

const ukPolicy: PstnPolicy = {
  defaultCountry: 'GB',
  internationalCountries: [],
  allowedPrefixes: [],
  maxConcurrentCalls: 10,
  maxConcurrentCallsPerUser: 10,
  maxCallsPerSecond: 100,
  maxCallsPerMinutePerUser: 100,
  maxCallDurationSeconds: 3600,
  mainNumber: null,
};

async function dial(user: TestUser, target: string) {
  return gateway.route(demoSipCredentials(user).username, target) as Promise<{ status: number; body: Exclude<SipRouteAnswer, { kind: 'user' }> }>;
}

async function report(event: PstnCallEvent) {
  const answer = await gateway.post('/api/sip/pstn/events', { node: gateway.node, event });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}

/** A call dialled by `user`, answered at `answeredAt` and hung up `seconds` later, as the gateway reports it. */
async function callFor(user: TestUser, target: string, seconds: number, answeredAt = Date.now() - seconds * 1000): Promise<string> {
  const answer = await dial(user, target);
  assert.equal(answer.body.kind, 'pstn', JSON.stringify(answer.body));
  const { callId } = answer.body;
  await report({ event: 'answered', callId, tenantId: tenant.id, at: answeredAt });
  await report({ event: 'ended', callId, tenantId: tenant.id, at: answeredAt + seconds * 1000, finalStatus: 200, hangupCause: 'caller' });
  return callId;
}

/** Waits for a mail to `user` whose subject matches (other mail may come first). */
async function mailAbout(user: TestUser, subject: RegExp): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!sentMail(user.email).some((mail) => subject.test(mail.subject))) {
    if (Date.now() > deadline)
      throw new Error(`no mail to ${user.email} about ${subject}: ${JSON.stringify(sentMail(user.email).map((mail) => mail.subject))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function chargeOf(callId: string) {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query<{ status: string; billed_seconds: number; cost_micros: string; rate_prefix: string | null; deck_id: string | null }>(
      'select status, billed_seconds, cost_micros, rate_prefix, deck_id from call_charges where call_id = $1',
      [callId],
    );
    return rows[0] ? { ...rows[0], cost_micros: Number(rows[0].cost_micros) } : null;
  });
}

describe('rating in SQL', () => {
  test('charges every call the same as the pure model: longest prefix, windows, increments, rounding, minimum; twice changes nothing', async () => {
    const row = fc.record({
      prefix: fc.stringMatching(/^4[0-9]{0,3}$/),
      price: fc.integer({ min: 0, max: 2_000_000 }),
      connect: fc.integer({ min: 0, max: 100_000 }),
      minimum: fc.integer({ min: 0, max: 300_000 }),
      increments: fc.constantFrom('60,60', '6,6', '1,1', '60,1', '30,6'),
      rounding: fc.constantFrom('up', 'down', 'half-up'),
      window: fc.constantFrom(',', 'mon-fri,08:00-18:00', '"sat,sun",', ',18:00-08:00'),
    });
    const call = fc.record({
      number: fc.stringMatching(/^4[0-9]{9,11}$/),
      durationMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 7_200_000 })),
      answeredAt: fc.integer({ min: Date.parse('2026-12-01T00:00:00Z'), max: Date.parse('2026-12-14T23:59:59Z') }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(row, { selector: (r) => r.prefix, minLength: 1, maxLength: 25 }),
        fc.array(call, { minLength: 1, maxLength: 40 }),
        async (rows, calls) => {
          // One row per prefix, so rows never overlap; outside a row's window a shorter prefix (or none) applies.
          const csv = [
            'prefix,destination,price_per_minute,connect_fee,initial_seconds,increment_seconds,minimum_charge,rounding,weekdays,hours',
            ...rows.map(
              (r, i) =>
                `${r.prefix},Place ${i},${formatMicros(r.price)},${formatMicros(r.connect)},${r.increments},${formatMicros(r.minimum)},${r.rounding},${r.window}`,
            ),
          ].join('\n');
          const parsed = parseRateDeck(csv);
          assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
          const { expected, callIds } = await withClient(stack.database, async (client) => {
            const planId = `plan-${crypto.randomUUID()}`;
            const owner = await createTenantRow(client, planId);
            await insertRateDeck(client, {
              id: `deck-${crypto.randomUUID()}`,
              planId,
              effectiveFrom: new Date('2026-11-01T00:00:00Z'),
              blockAboveMicros: 500_000,
              rows: parsed.rows,
            });
            const index = new RateIndex({ version: 'model', currency: 'EUR', effectiveFrom: new Date(0), blockAbovePerMinute: 500_000, rows: parsed.rows });
            const ids: string[] = [];
            const model = new Map<string, { billed: number; cost: number; prefix: string | null }>();
            for (const c of calls) {
              const callId = crypto.randomUUID();
              ids.push(callId);
              await insertCall(client, owner, callId, `+${c.number}`, c.answeredAt, c.durationMs);
              const rated = index.rate(`+${c.number}`, new Date(c.answeredAt), c.durationMs);
              model.set(
                callId,
                rated.kind === 'rated' ? { billed: rated.billedSeconds, cost: rated.cost, prefix: rated.prefix } : { billed: 0, cost: 0, prefix: null },
              );
            }
            return { expected: model, callIds: ids };
          });
          const first = await withClient(stack.database, (client) => rateCalls(client, callIds));
          assert.equal(first.length, callIds.length);
          assert.equal((await withClient(stack.database, (client) => rateCalls(client, callIds))).length, 0);
          const charges = await withClient(stack.database, async (client) => {
            const { rows: found } = await client.query<{ call_id: string; billed_seconds: number; cost_micros: string; rate_prefix: string | null }>(
              'select call_id, billed_seconds, cost_micros, rate_prefix from call_charges where call_id = any($1)',
              [callIds],
            );
            return new Map(found.map((charge) => [charge.call_id, [charge.billed_seconds, Number(charge.cost_micros), charge.rate_prefix]]));
          });
          for (const callId of callIds) {
            const want = expected.get(callId)!;
            assert.deepEqual(charges.get(callId), [want.billed, want.cost, want.prefix], callId);
          }
        },
      ),
      { seed: SEED, numRuns: 12 },
    );
  });

  test('an unanswered call and a call in from the outside are free; a deck that starts later rates nothing before it', async () => {
    let [before_, unanswered, inbound, after_] = ['', '', '', ''];
    await withClient(stack.database, async (client) => {
      const planId = `plan-${crypto.randomUUID()}`;
      const owner = await createTenantRow(client, planId);
      const later = parseRateDeck(
        'prefix,destination,price_per_minute,connect_fee,initial_seconds,increment_seconds,minimum_charge,rounding,weekdays,hours\n44,UK,0.5,0,1,1,0,up,,\n',
      );
      assert.ok(later.ok);
      await insertRateDeck(client, {
        id: `deck-${crypto.randomUUID()}`,
        planId,
        effectiveFrom: new Date('2026-12-10T00:00:00Z'),
        blockAboveMicros: 500_000,
        rows: later.rows,
      });
      [before_, unanswered, inbound, after_] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      await insertCall(client, owner, before_, '+442079460958', Date.parse('2026-12-09T12:00:00Z'), 60_000);
      await insertCall(client, owner, unanswered, '+442079460958', null, 0);
      await insertCall(client, owner, inbound, '+442079460958', Date.parse('2026-12-11T12:00:00Z'), 60_000, 'inbound');
      await insertCall(client, owner, after_, '+442079460958', Date.parse('2026-12-11T12:00:00Z'), 60_000);
      await rateCalls(client, [before_, unanswered, inbound, after_]);
    });
    const charges = await Promise.all([before_, unanswered, inbound, after_].map(chargeOf));
    assert.deepEqual(
      charges.map((charge) => [charge?.status, charge?.cost_micros]),
      [
        ['no_rate', 0],
        ['free', 0],
        ['free', 0],
        ['rated', 500_000],
      ],
    );
  });
});

describe('calls to the outside are charged and capped', () => {
  before(async () => {
    const saved = await as(tenant.users.alice, 'PUT', '/api/admin/pstn/policy', ukPolicy);
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
  });

  test('a new organisation is on the standard plan with caps, and its calls are charged from the standard deck when they end', async () => {
    const { alice, bob } = tenant.users;
    const fresh = await as<BillingView>(alice, 'GET', '/api/admin/billing');
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    assert.deepEqual([fresh.body.plan.id, fresh.body.plan.currency, fresh.body.limits], ['standard', 'USD', { dailyCap: '100', monthlyCap: '1000' }]);
    assert.equal(fresh.body.spentToday, '0');

    // 61 s to a UK landline at 0.025 a minute by the second: 0.025416 rounded up.
    const landline = await callFor(bob, '020 7946 0001', 61);
    assert.deepEqual(await chargeOf(landline), { status: 'rated', billed_seconds: 61, cost_micros: 25_417, rate_prefix: '44', deck_id: 'standard-2026' });
    // A mobile: the longer prefix.
    const mobile = await callFor(bob, '07400 123456', 30);
    assert.deepEqual([(await chargeOf(mobile))?.rate_prefix, (await chargeOf(mobile))?.cost_micros], ['447', 20_000]);
    // Declined: free.
    const declined = await dial(bob, '020 7946 0002');
    assert.equal(declined.body.kind, 'pstn');
    await report({ event: 'ended', callId: declined.body.callId, tenantId: tenant.id, at: Date.now(), finalStatus: 486, hangupCause: 'declined' });
    assert.deepEqual([(await chargeOf(declined.body.callId))?.status, (await chargeOf(declined.body.callId))?.cost_micros], ['free', 0]);

    const standing = await as<BillingView>(alice, 'GET', '/api/admin/billing');
    assert.equal(standing.body.spentToday, '0.045417');
    assert.equal(standing.body.spentPeriod, '0.045417');
    const byDestination = await as<UsageReport>(alice, 'GET', '/api/admin/billing/usage?by=destination');
    assert.equal(byDestination.status, 200, JSON.stringify(byDestination.body));
    assert.deepEqual(
      byDestination.body.rows.map((row) => [row.label, row.calls, row.billedSeconds, row.cost]),
      [
        ['United Kingdom', 1, 61, '0.025417'],
        ['United Kingdom mobile', 1, 30, '0.02'],
      ],
    );
    assert.deepEqual(byDestination.body.total, { calls: 2, billedSeconds: 91, cost: '0.045417' });
    const byUser = await as<UsageReport>(alice, 'GET', '/api/admin/billing/usage?by=user');
    assert.deepEqual(
      byUser.body.rows.map((row) => [row.key, row.label, row.calls]),
      [[bob.id, bob.displayName, 2]],
    );
  });

  test('a cap shortens a call to what the money left buys, refuses the next with a reason, and alerts the admins at 80% and 100%', async () => {
    const { alice, bob } = tenant.users;
    const standing = await as<BillingView>(alice, 'GET', '/api/admin/billing');
    const spent = Number(standing.body.spentToday);
    // 0.10 left under the daily cap: 4 minutes of UK landline at 0.025.
    const cap = (spent + 0.1).toFixed(6);
    assert.equal((await as(alice, 'PUT', '/api/admin/billing/limits', { dailyCap: cap, monthlyCap: null } satisfies SpendLimits)).status, 200);
    const answer = await dial(bob, '020 7946 0003');
    assert.deepEqual(answer.body.kind === 'pstn' && answer.body.maxDurationSeconds, 240);
    // While it runs, its reservation holds the rest of the cap.
    const second = await dial(bob, '020 7946 0004');
    assert.deepEqual(second.body.kind === 'refused' && [second.body.reason, second.body.sipStatus], ['spend_cap', 403]);
    // It lasts 200 s (0.083334, over 80%).
    await report({ event: 'answered', callId: answer.body.callId, tenantId: tenant.id, at: Date.now() - 200_000 });
    await report({ event: 'ended', callId: answer.body.callId, tenantId: tenant.id, at: Date.now(), finalStatus: 200, hangupCause: 'caller' });
    await mailAbout(alice, /80% of your daily spending limit is used/);
    // The next may last the 39 s that the 0.016666 left buys; the gateway cuts it two seconds late, which reaches the cap.
    const last = await dial(bob, '020 7946 0005');
    assert.equal(last.body.kind === 'pstn' && last.body.maxDurationSeconds, 39);
    await report({ event: 'answered', callId: last.body.callId, tenantId: tenant.id, at: Date.now() - 41_000 });
    await report({ event: 'ended', callId: last.body.callId, tenantId: tenant.id, at: Date.now(), finalStatus: 200, hangupCause: 'caller' });
    await mailAbout(alice, /your daily spending limit is reached/);
    const refused = await dial(bob, '020 7946 0006');
    assert.deepEqual(refused.body.kind === 'refused' && [refused.body.reason, refused.body.message], [
      'spend_cap',
      'your organisation has reached its spending limit for calls to the outside; an admin can raise it',
    ]);

    // Raised again: calls go out for the policy's hour.
    await as(alice, 'PUT', '/api/admin/billing/limits', { dailyCap: '100', monthlyCap: '1000' } satisfies SpendLimits);
    const reopened = await dial(bob, '020 7946 0007');
    assert.equal(reopened.body.kind === 'pstn' && reopened.body.maxDurationSeconds, 3600);
    await report({ event: 'ended', callId: reopened.body.callId, tenantId: tenant.id, at: Date.now(), finalStatus: 487, hangupCause: 'cancelled' });
  });

  test('a destination priced above the deck’s limit is refused unless an admin opened its prefix, and then it is charged', async () => {
    const { alice, bob } = tenant.users;
    // +44 87 is a UK business-rate range: 0.12 a minute, under the limit: open. +44 9 is premium (1.20): blocked twice over.
    await as(alice, 'PUT', '/api/admin/pstn/policy', { ...ukPolicy, allowedPrefixes: ['+44909'] });
    const premium = await callFor(bob, '0909 879 0000', 60);
    assert.deepEqual(await chargeOf(premium), { status: 'rated', billed_seconds: 60, cost_micros: 1_200_000, rate_prefix: '449', deck_id: 'standard-2026' });
    await as(alice, 'PUT', '/api/admin/pstn/policy', ukPolicy);
  });

  test('re-rating after a deck correction adds the differences once', async () => {
    const { alice } = tenant.users;
    const { rows } = await as<UsageReport>(alice, 'GET', '/api/admin/billing/usage?by=day').then((answer) => answer.body);
    const before_ = rows.reduce((sum, row) => sum + Number(row.cost), 0);
    const planId = `plan-${crypto.randomUUID()}`;
    const corrected = parseRateDeck(
      'prefix,destination,price_per_minute,connect_fee,initial_seconds,increment_seconds,minimum_charge,rounding,weekdays,hours\n4,Europe,0.06,0,60,60,0,up,,\n',
    );
    assert.ok(corrected.ok);
    const periodStart = new Date(`${new Date().toISOString().slice(0, 8)}01T00:00:00Z`);
    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
    const run = await withClient(stack.database, async (client) => {
      await client.query(`insert into billing_plans (id, name, currency, seat_price_micros) values ($1, 'Corrected', 'USD', 0)`, [planId]);
      await insertRateDeck(client, {
        id: `deck-${crypto.randomUUID()}`,
        planId,
        effectiveFrom: new Date('2026-01-01T00:00:00Z'),
        blockAboveMicros: 5_000_000,
        rows: corrected.rows,
      });
      await client.query('update tenant_billing set plan_id = $2 where tenant_id = $1', [tenant.id, planId]);
      const first = await rerate(client, 'run-1', tenant.id, periodStart, tomorrow);
      const again = await rerate(client, 'run-1', tenant.id, periodStart, tomorrow);
      const second = await rerate(client, 'run-2', tenant.id, periodStart, tomorrow);
      return { first, again, second };
    });
    assert.ok(run.first.calls > 0);
    assert.deepEqual(
      [run.again, run.second],
      [
        { calls: 0, deltaMicros: 0 },
        { calls: 0, deltaMicros: 0 },
      ],
    );
    const after_ = (await as<UsageReport>(alice, 'GET', '/api/admin/billing/usage?by=day')).body;
    // Every answered call now costs 0.06 a started minute.
    const minutes = after_.rows.reduce((sum, row) => sum + row.billedSeconds / 60, 0);
    assert.equal(after_.total.cost, (minutes * 0.06).toFixed(6).replace(/\.?0+$/, ''));
    assert.equal(Math.round((Number(after_.total.cost) - before_) * 1e6), run.first.deltaMicros);
  });
});

describe('the billing routes', () => {
  test('admins see and change billing, operators only see it, users neither; bad amounts and days are refused', async () => {
    const { alice, bob, carol } = tenant.users;
    assertError(await as(bob, 'GET', '/api/admin/billing'), 403, 'forbidden');
    assertError(await as(bob, 'GET', '/api/admin/billing/usage'), 403, 'forbidden');
    assert.equal((await as(carol, 'GET', '/api/admin/billing')).status, 200);
    assertError(await as(carol, 'PUT', '/api/admin/billing/limits', { dailyCap: '1', monthlyCap: '1' }), 403, 'forbidden');
    for (const dailyCap of ['-1', '1e3', '0.1234567', 'ten', 5]) {
      assertError(await as(alice, 'PUT', '/api/admin/billing/limits', { dailyCap, monthlyCap: null }), 400, 'bad_request');
    }
    assertError(await as(alice, 'GET', '/api/admin/billing/usage?from=2026-12-10&to=2026-12-01'), 400, 'bad_request');
    assertError(await as(alice, 'GET', '/api/admin/billing/usage?from=2024-01-01&to=2026-12-01'), 400, 'bad_request');
    assertError(await as(alice, 'GET', '/api/admin/billing/usage?from=yesterday'), 400, 'bad_request');
    assertError(await as(alice, 'GET', '/api/admin/billing/usage?by=planet'), 400, 'bad_request');
  });

  test('the rate deck in force comes as CSV that parses back to the deck', async () => {
    const other = await createTenant();
    const answer = await fetch(`${stack.url}/api/admin/billing/rate-deck`, {
      headers: { authorization: `Bearer ${(await login(other.users.alice)).accessToken}` },
    });
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/csv/);
    const parsed = parseRateDeck(await answer.text());
    assert.ok(parsed.ok);
    assert.equal(parsed.rows.length, 48);
    assert.deepEqual(
      parsed.rows.filter((row) => row.prefix === '44').map((row) => [row.destination, row.pricePerMinute]),
      [['United Kingdom', 25_000]],
    );
  });
});

describe('rate decks uploaded in the console', () => {
  const header = 'prefix,destination,price_per_minute,connect_fee,initial_seconds,increment_seconds,minimum_charge,rounding,weekdays,hours';
  let operator: TestTenant;
  before(async () => {
    operator = await createTenant(stack.edgeVars.PLATFORM_TENANT_ID);
  });
  const decksOf = (planId: string) =>
    withClient(
      stack.database,
      async (client) =>
        (
          await client.query<{ id: string; rows: string }>(
            `select d.id, (select count(*) from rate_deck_rows r where r.deck_id = d.id) as rows from rate_decks d where d.plan_id = $1 order by d.effective_from`,
            [planId],
          )
        ).rows,
    );

  test('the operator’s admin uploads a deck that rates from its date, and the upload is audited', async () => {
    const planId = `plan-upload-${crypto.randomUUID().slice(0, 8)}`;
    await withClient(stack.database, (client) =>
      client.query(`insert into billing_plans (id, name, currency, seat_price_micros) values ($1, 'Uploaded', 'USD', 0)`, [planId]),
    );
    const csv = `${header}\n44,United Kingdom,0.02,0,60,60,0,up,,\n4420,London,0.015,0,60,60,0,up,,\n449,UK premium,9,0,60,60,0,up,,\n`;
    const answer = await as<{ deckId: string; rows: number; planId: string }>(operator.users.alice, 'POST', '/api/admin/billing/rate-decks', {
      planId,
      effectiveFrom: '2026-01-01T00:00:00Z',
      blockAbove: '1',
      csv,
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.rows, 3);
    assert.deepEqual(await decksOf(planId), [{ id: answer.body.deckId, rows: '3' }]);
    const audit = await withClient(
      stack.database,
      async (client) =>
        (await client.query(`select action, target_id from audit_log where tenant_id = $1 and action = 'billing.rate_deck_imported'`, [operator.id])).rows,
    );
    assert.deepEqual(audit, [{ action: 'billing.rate_deck_imported', target_id: answer.body.deckId }]);
    const view = await as<BillingView>(operator.users.alice, 'GET', '/api/admin/billing');
    assert.equal(view.body.managesRateDecks, true);
  });

  test('a deck with a bad row is refused with its line and nothing of it is stored; other organisations and non-admins may not upload', async () => {
    const planId = `plan-upload-${crypto.randomUUID().slice(0, 8)}`;
    await withClient(stack.database, (client) =>
      client.query(`insert into billing_plans (id, name, currency, seat_price_micros) values ($1, 'Uploaded', 'USD', 0)`, [planId]),
    );
    const upload = {
      planId,
      effectiveFrom: '2026-01-01T00:00:00Z',
      blockAbove: '1',
      csv: `${header}\n44,United Kingdom,0.02,0,60,60,0,up,,\n33,France,-0.01,0,60,60,0,up,,\n`,
    };
    const bad = await as<ErrorBody>(operator.users.alice, 'POST', '/api/admin/billing/rate-decks', upload);
    assertError(bad, 400, 'bad_request');
    assert.match(bad.body.error.message, /line 3: /);
    assert.deepEqual(await decksOf(planId), []);
    assertError(
      await as(operator.users.alice, 'POST', '/api/admin/billing/rate-decks', {
        ...upload,
        planId: 'plan-none',
        csv: `${header}\n44,United Kingdom,0.02,0,60,60,0,up,,\n`,
      }),
      404,
      'not_found',
    );
    assertError(await as(operator.users.alice, 'POST', '/api/admin/billing/rate-decks', { ...upload, effectiveFrom: 'soon' }), 400, 'bad_request');
    assertError(await as(operator.users.carol, 'POST', '/api/admin/billing/rate-decks', upload), 403, 'forbidden');
    // An admin of any other organisation: refused whatever the deck, and told no more.
    assertError(await as(tenant.users.alice, 'POST', '/api/admin/billing/rate-decks', upload), 403, 'forbidden');
    assert.equal((await as<BillingView>(tenant.users.alice, 'GET', '/api/admin/billing')).body.managesRateDecks, false);
    assert.deepEqual(await decksOf(planId), []);
  });
});

/** A bare tenant on a plan of its own (the rating tests write rows directly). */
async function createTenantRow(client: { query: (sql: string, values?: unknown[]) => Promise<unknown> }, planId: string): Promise<string> {
  const tenantId = `t-${crypto.randomUUID()}`;
  await client.query(`insert into tenants (id, slug, name) values ($1, $1, 'Rating test')`, [tenantId]);
  await client.query(`insert into billing_plans (id, name, currency, seat_price_micros) values ($1, 'Test plan', 'EUR', 0)`, [planId]);
  await client.query(`insert into tenant_billing (tenant_id, plan_id, daily_cap_micros, monthly_cap_micros) values ($1, $2, null, null)`, [tenantId, planId]);
  return tenantId;
}

async function insertCall(
  client: { query: (sql: string, values?: unknown[]) => Promise<unknown> },
  tenantId: string,
  callId: string,
  destination: string,
  answeredAt: number | null,
  durationMs: number,
  direction: 'outbound' | 'inbound' = 'outbound',
): Promise<void> {
  const created = new Date((answeredAt ?? Date.parse('2026-12-12T00:00:00Z')) - 5_000);
  await client.query(
    `insert into pstn_call_records (call_id, tenant_id, direction, did, destination, created_at, answered_at, ended_at, duration_ms, final_status)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 200)`,
    [
      callId,
      tenantId,
      direction,
      direction === 'inbound' ? destination : null,
      destination,
      created,
      answeredAt === null ? null : new Date(answeredAt),
      new Date((answeredAt ?? created.getTime()) + durationMs),
      durationMs,
    ],
  );
}
