/**
 * Charging invoices through Stripe, against the edge, PostgreSQL and the Stripe stand-in (which
 * checks every request against Stripe's API description and its idempotency rules): an invoice
 * closed by an admin is sent, finalised and paid, with a customer made once per organisation;
 * a declined card leaves it due with the reason; the webhook endpoint takes only well-signed,
 * recent events of the types it handles, stores each once, and lets no late event undo a later one.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { BillingView, InvoiceDetail, PstnPolicy, SipRouteAnswer } from '@callstack/protocol';
import Stripe from 'stripe';
import { runDunning, type Collector } from '../../edge/src/billing/collections.ts';
import { GRACE_DAYS, RETRY_AFTER_DAYS } from '../../edge/src/billing/dunning.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { demoSipCredentials } from '../../edge/scripts/seed.ts';
import { api, createTenant, login, type TestTenant, type TestUser } from '../lib/fixtures.ts';
import { SipGatewayStub } from '../lib/SipGatewayStub.ts';
import { stack } from '../lib/stack.ts';

let stripe: Stripe;
let gateway: SipGatewayStub;

before(async () => {
  const url = new URL(stack.stripe.url);
  stripe = new Stripe(stack.stripe.secretKey, { apiVersion: '2024-04-10', host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0 });
  gateway = await SipGatewayStub.start(stack.url, stack.mediaSecret);
});
after(async () => {
  await gateway.close();
});

/** An organisation whose period began ten days ago or more, with its people there since then: a bill of a few seats' worth. */
async function billableTenant(): Promise<TestTenant> {
  const tenant = await createTenant();
  const anchor = Math.min(28, new Date(Date.now() - 10 * 86_400_000).getUTCDate());
  await withClient(stack.database, async (client) => {
    await client.query(`insert into tenant_billing (tenant_id, plan_id, anchor_day) values ($1, 'standard', $2)`, [tenant.id, anchor]);
    await client.query(`update users set created_at = now() - interval '40 days' where tenant_id = $1`, [tenant.id]);
  });
  return tenant;
}

/** An organisation whose Stripe customer's card is declined. */
async function decliningTenant(): Promise<TestTenant> {
  const tenant = await billableTenant();
  const declining = await stripe.customers.create({ name: 'Declines', metadata: { stand_in_payment: 'fail' } }, { idempotencyKey: crypto.randomUUID() });
  await withClient(stack.database, (client) =>
    client.query('insert into stripe_customers (tenant_id, customer_id) values ($1, $2)', [tenant.id, declining.id]),
  );
  return tenant;
}

async function closePeriod(tenant: TestTenant): Promise<InvoiceDetail> {
  const answer = await api<InvoiceDetail>('POST', '/api/admin/billing/close-period', { auth: (await login(tenant.users.alice)).accessToken });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body;
}

async function invoiceRow(id: string) {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query<{ status: string; stripe_invoice_id: string | null; payment_problem: string | null }>(
      'select status, stripe_invoice_id, payment_problem from invoices where id = $1',
      [id],
    );
    return rows[0]!;
  });
}

async function eventsOf(objectId: string) {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query<{ type: string }>('select type from stripe_events where object_id = $1 order by created, received_at', [objectId]);
    return rows.map((row) => row.type);
  });
}

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function signed(payload: unknown, { secret = stack.stripe.webhookSecret, at = Math.floor(Date.now() / 1000) } = {}) {
  const body = JSON.stringify(payload);
  const signature = createHmac('sha256', secret).update(`${at}.${body}`).digest('hex');
  return { body, signature: `t=${at},v1=${signature}` };
}

async function deliver(payload: unknown, options?: { secret?: string; at?: number }, signature?: string) {
  const message = signed(payload, options);
  const response = await fetch(`${stack.url}/api/billing/stripe/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature === '' ? {} : { 'stripe-signature': signature ?? message.signature }) },
    body: message.body,
  });
  return { status: response.status, body: (await response.json()) as { received?: boolean; duplicate?: boolean; error?: { code: string } } };
}

const event = (type: string, objectId: string, created = Math.floor(Date.now() / 1000)) => ({
  id: `evt_test_${crypto.randomUUID().replace(/-/g, '')}`,
  object: 'event',
  type,
  created,
  api_version: '2024-04-10',
  livemode: false,
  data: { object: { id: objectId, object: type.startsWith('invoice.') ? 'invoice' : 'customer' } },
});

describe('charging invoices', () => {
  test('a closed period is sent to Stripe, finalised and paid: one customer per organisation, the same total, and Stripe’s events recorded', async () => {
    const tenant = await billableTenant();
    const invoice = await closePeriod(tenant);
    assert.ok(Number(invoice.total) > 0, JSON.stringify(invoice));
    const row = await until('the invoice paid', async () => {
      const current = await invoiceRow(invoice.id);
      return current.status === 'paid' && current;
    });
    const remote = await stripe.invoices.retrieve(row.stripe_invoice_id!);
    assert.deepEqual([remote.status, remote.total, remote.metadata?.callstack_invoice], ['paid', Math.round(Number(invoice.total) * 100), invoice.id]);
    const customer = (await stripe.customers.retrieve(remote.customer as string)) as Stripe.Customer;
    assert.equal(customer.metadata.callstack_tenant, tenant.id);
    // Both events, in whatever order the deliveries landed.
    const events = await until('the webhooks', async () => {
      const types = await eventsOf(remote.id);
      return types.length === 2 && types;
    });
    assert.deepEqual(events.sort(), ['invoice.finalized', 'invoice.paid']);
    const detail = await api<InvoiceDetail>('GET', `/api/admin/billing/invoices/${invoice.id}`, { auth: (await login(tenant.users.carol)).accessToken });
    assert.deepEqual([detail.body.status, detail.body.paymentProblem], ['paid', null]);
  });

  test('a declined card leaves the invoice due, with the reason, and a late event does not undo a later one', async () => {
    const tenant = await decliningTenant();
    const invoice = await closePeriod(tenant);
    const row = await until('the payment tried', async () => {
      const current = await invoiceRow(invoice.id);
      return current.payment_problem !== null && current;
    });
    // The card's answer, or the event's that follows it.
    assert.equal(row.status, 'open');
    assert.match(row.payment_problem ?? '', /declined|failed/);
    await until('the failure event', async () => (await eventsOf(row.stripe_invoice_id!)).includes('invoice.payment_failed'));

    // Paid later (by the customer, on Stripe's page), then an older event arrives late.
    const old = Math.floor(Date.now() / 1000) - 120;
    assert.equal((await deliver(event('invoice.paid', row.stripe_invoice_id!))).status, 200);
    assert.equal((await deliver(event('invoice.payment_failed', row.stripe_invoice_id!, old))).status, 200);
    assert.equal((await deliver(event('invoice.finalized', row.stripe_invoice_id!, old))).status, 200);
    assert.deepEqual(await invoiceRow(invoice.id), { status: 'paid', stripe_invoice_id: row.stripe_invoice_id, payment_problem: null });
  });
});

/** The edge's collector as the cron builds it, on the test's own connections: the same code, on a clock the test sets. */
const collector = (): Collector => ({
  stripe,
  transaction: (work) =>
    withClient(stack.database, async (client) => {
      await client.query('begin');
      try {
        const result = await work(client);
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
    }),
});

const DAY = 86_400_000;

/** The mail queued for `user` (the outbox: what the test's own runs queue, the edge's cron delivers). */
async function queuedMail(user: TestUser): Promise<{ subject: string; text: string }[]> {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query<{ subject: string; body_text: string }>(
      'select subject, body_text from outbox where to_address = $1 order by created_at',
      [user.email],
    );
    return rows.map((row) => ({ subject: row.subject, text: row.body_text }));
  });
}

async function mailCount(user: TestUser, subject: RegExp, count: number): Promise<void> {
  const matching = async () => (await queuedMail(user)).filter((mail) => subject.test(mail.subject));
  await until(`${count} mails about ${subject}`, async () => (await matching()).length >= count);
  assert.equal((await matching()).length, count, JSON.stringify(await queuedMail(user)));
}

async function dial(user: TestUser, target: string) {
  return (await gateway.route(demoSipCredentials(user).username, target)).body as SipRouteAnswer;
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

describe('dunning', () => {
  test('a declined card is tried again on schedule with a mail each time; after the grace period calls to the outside stop, internal ones go on; paid, they open again', async () => {
    const tenant = await decliningTenant();
    const { alice, bob } = tenant.users;
    const adminToken = (await login(alice)).accessToken;
    assert.equal((await api('PUT', '/api/admin/pstn/policy', { auth: adminToken, body: ukPolicy })).status, 200);
    const invoice = await closePeriod(tenant);
    const failedMail = new RegExp(`the payment of invoice No\\. ${invoice.number} failed`);
    await mailCount(alice, failedMail, 1);
    assert.match(
      (await queuedMail(alice)).find((mail) => failedMail.test(mail.subject))!.text,
      /declined[\s\S]*tried again on[\s\S]*calls to the outside stop/,
    );
    const { payment_failed_at: failedAt, stripe_invoice_id: stripeInvoiceId } = await withClient(stack.database, async (client) => {
      const { rows } = await client.query<{ payment_failed_at: Date; stripe_invoice_id: string }>(
        'select payment_failed_at, stripe_invoice_id from invoices where id = $1',
        [invoice.id],
      );
      return rows[0]!;
    });
    const at = (days: number) => new Date(failedAt.getTime() + days * DAY + 60_000);

    // Not yet due: nothing is tried.
    assert.deepEqual(await runDunning(collector(), at(0)), { looked: 0, tried: 0 });
    // Each day on the schedule, one more try, declined, and one more mail.
    for (const [index, days] of RETRY_AFTER_DAYS.entries()) {
      const run = await runDunning(collector(), at(days));
      assert.ok(run.tried >= 1, `a try on day ${days}: ${JSON.stringify(run)}`);
      await mailCount(alice, failedMail, index + 2);
    }
    assert.equal((await stripe.invoices.retrieve(stripeInvoiceId)).status, 'open');
    assert.equal((await dial(bob, '020 7946 0100')).kind, 'pstn', 'calls go out during the grace period');
    assert.equal((await api<BillingView>('GET', '/api/admin/billing', { auth: adminToken })).body.pstnSuspendedSince, null);

    // The grace period is over: calls to the outside stop, once.
    await runDunning(collector(), at(GRACE_DAYS));
    await runDunning(collector(), at(GRACE_DAYS + 1));
    await mailCount(alice, /calls to the outside are stopped/, 1);
    const refused = await dial(bob, '020 7946 0101');
    assert.deepEqual(refused.kind === 'refused' && [refused.reason, refused.sipStatus], ['payment_overdue', 403]);
    assert.equal((await dial(bob, alice.id)).kind, 'user', 'internal calls go on');
    const stopped = (await api<BillingView>('GET', '/api/admin/billing', { auth: adminToken })).body;
    assert.ok(stopped.pstnSuspendedSince, JSON.stringify(stopped));
    // No more tries than the schedule's.
    assert.equal((await runDunning(collector(), at(GRACE_DAYS + 30))).tried, 0);
    await mailCount(alice, failedMail, RETRY_AFTER_DAYS.length + 1);

    // Paid on Stripe's invoice page: Stripe's event opens calls again.
    assert.equal((await deliver(event('invoice.paid', stripeInvoiceId))).status, 200);
    await mailCount(alice, new RegExp(`invoice No\\. ${invoice.number} is paid, calls to the outside are open again`), 1);
    assert.equal((await api<BillingView>('GET', '/api/admin/billing', { auth: adminToken })).body.pstnSuspendedSince, null);
    assert.equal((await dial(bob, '020 7946 0102')).kind, 'pstn');
  });
});

describe('the Stripe webhook endpoint', () => {
  test('refuses what is not Stripe’s: no signature, a wrong one, an old one; and an event type it does not handle, storing nothing', async () => {
    const payload = event('invoice.paid', 'in_nothing');
    for (const [options, signature] of [
      [undefined, ''],
      [{ secret: 'whsec_wrong' }, undefined],
      [{ at: Math.floor(Date.now() / 1000) - 600 }, undefined],
      [undefined, 't=1,v1=00'],
    ] as const) {
      const answer = await deliver(payload, options, signature);
      assert.deepEqual([answer.status, answer.body.error?.code], [401, 'unauthorized'], JSON.stringify(options));
    }
    const unknown = event('charge.refunded', 'ch_1');
    const refused = await deliver(unknown);
    assert.deepEqual([refused.status, refused.body.error?.code], [400, 'bad_request']);
    const stored = await withClient(stack.database, (client) => client.query('select 1 from stripe_events where id = any($1)', [[payload.id, unknown.id]]));
    assert.equal(stored.rowCount, 0);
  });

  test('the same event delivered twice is stored once', async () => {
    const payload = event('customer.updated', 'cus_twice');
    assert.deepEqual((await deliver(payload)).body, { received: true, duplicate: false });
    assert.deepEqual((await deliver(payload)).body, { received: true, duplicate: true });
    assert.deepEqual(await eventsOf('cus_twice'), ['customer.updated']);
  });
});
