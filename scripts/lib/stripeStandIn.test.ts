/**
 * The Stripe stand-in, driven by the real `stripe` SDK (pinned to API version 2024-04-10): the
 * life cycle CallStack uses (customer, invoice items, invoice, finalize, pay), and each check the
 * real Stripe makes: the key, parameters against Stripe's API description, idempotency, and
 * webhook signatures the SDK verifies.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import Stripe from 'stripe';
import { decodeForm, startStripeStandIn, STRIPE_API_VERSION, type StripeStandIn } from './stripeStandIn.ts';
import { freePort } from './processes.ts';

let standIn: StripeStandIn;
let stripe: Stripe;

before(async () => {
  standIn = await startStripeStandIn();
  stripe = new Stripe(standIn.secretKey, { apiVersion: STRIPE_API_VERSION, host: standIn.host, port: standIn.port, protocol: 'http', maxNetworkRetries: 0 });
});
after(() => standIn.close());

const key = () => `test-${crypto.randomUUID()}`;

test('form keys with brackets decode to nested objects and indexed lists', () => {
  assert.deepEqual(decodeForm('a=1&metadata[tenant]=t%201&expand[0]=lines&expand[1]=customer&b=x%3Dy&c='), {
    a: '1',
    metadata: { tenant: 't 1' },
    expand: { 0: 'lines', 1: 'customer' },
    b: 'x=y',
    c: '',
  });
});

test('a customer, invoice items, an invoice: finalized and paid, with the events Stripe sends', async () => {
  const customer = await stripe.customers.create({ name: 'Acme', email: 'billing@acme.test', metadata: { tenant: 't-1' } }, { idempotencyKey: key() });
  assert.match(customer.id, /^cus_/);
  const invoice = await stripe.invoices.create(
    { customer: customer.id, currency: 'usd', auto_advance: false, metadata: { invoice: 'inv-1' } },
    { idempotencyKey: key() },
  );
  assert.equal(invoice.status, 'draft');
  await stripe.invoiceItems.create(
    { customer: customer.id, invoice: invoice.id, amount: 1500, currency: 'usd', description: 'Seat: Alice' },
    { idempotencyKey: key() },
  );
  await stripe.invoiceItems.create({ customer: customer.id, invoice: invoice.id, amount: 8, currency: 'usd', description: 'Calls' }, { idempotencyKey: key() });
  const finalized = await stripe.invoices.finalizeInvoice(invoice.id, {}, { idempotencyKey: key() });
  assert.deepEqual([finalized.status, finalized.total, finalized.amount_due], ['open', 1508, 1508]);
  const paid = await stripe.invoices.pay(invoice.id, {}, { idempotencyKey: key() });
  assert.equal(paid.status, 'paid');
  assert.deepEqual(
    standIn.events.filter((event) => event.data.object.id === invoice.id).map((event) => event.type),
    ['invoice.finalized', 'invoice.paid'],
  );
  assert.equal((await stripe.invoices.retrieve(invoice.id)).status, 'paid');
});

test('a failing card and one that needs the customer: 402 errors and their events', async () => {
  for (const [outcome, event, code] of [
    ['fail', 'invoice.payment_failed', 'card_declined'],
    ['requires_action', 'invoice.payment_action_required', 'invoice_payment_intent_requires_action'],
  ] as const) {
    const customer = await stripe.customers.create({ metadata: { stand_in_payment: outcome } }, { idempotencyKey: key() });
    const invoice = await stripe.invoices.create({ customer: customer.id, currency: 'usd' }, { idempotencyKey: key() });
    await stripe.invoiceItems.create({ customer: customer.id, invoice: invoice.id, amount: 100, currency: 'usd' }, { idempotencyKey: key() });
    await stripe.invoices.finalizeInvoice(invoice.id, {}, { idempotencyKey: key() });
    await assert.rejects(stripe.invoices.pay(invoice.id, {}, { idempotencyKey: key() }), (error: Stripe.errors.StripeError) => {
      assert.equal(error.statusCode, 402);
      assert.equal(error.code, code);
      return true;
    });
    assert.ok(standIn.events.some((each) => each.type === event && each.data.object.id === invoice.id));
  }
});

test('what Stripe refuses is refused: a wrong key, an unknown or missing parameter, a wrong type, a write without an idempotency key', async () => {
  const wrong = new Stripe('sk_test_wrong', { apiVersion: STRIPE_API_VERSION, host: standIn.host, port: standIn.port, protocol: 'http', maxNetworkRetries: 0 });
  await assert.rejects(wrong.customers.create({}, { idempotencyKey: key() }), Stripe.errors.StripeAuthenticationError);
  await assert.rejects(
    stripe.customers.create({ nickname: 'x' } as Stripe.CustomerCreateParams, { idempotencyKey: key() }),
    (error: Stripe.errors.StripeError) => error.type === 'StripeInvalidRequestError' && /unknown parameter: nickname/.test(error.message),
  );
  await assert.rejects(
    stripe.invoiceItems.create({ amount: 5, currency: 'usd' } as Stripe.InvoiceItemCreateParams, { idempotencyKey: key() }),
    /Missing required param: customer/,
  );
  await assert.rejects(
    stripe.invoices.create({ customer: 'cus_x', collection_method: 'by_pigeon' } as unknown as Stripe.InvoiceCreateParams, { idempotencyKey: key() }),
    /collection_method/,
  );
  await assert.rejects(stripe.customers.create({ name: 'No key' }), /Idempotency-Key/);
  await assert.rejects(
    stripe.invoices.retrieve('in_nothing'),
    (error: Stripe.errors.StripeError) => error.statusCode === 404 && error.code === 'resource_missing',
  );
});

test('the same idempotency key replays the first answer; with other parameters it is an idempotency error', async () => {
  const idempotencyKey = key();
  const first = await stripe.customers.create({ name: 'Once' }, { idempotencyKey });
  const again = await stripe.customers.create({ name: 'Once' }, { idempotencyKey });
  assert.equal(again.id, first.id);
  assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
  await assert.rejects(stripe.customers.create({ name: 'Twice' }, { idempotencyKey }), Stripe.errors.StripeIdempotencyError);
});

test('webhooks arrive signed as Stripe signs them: the SDK verifies them, and refuses a wrong secret', async () => {
  const received: { payload: string; signature: string }[] = [];
  const port = await freePort();
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ payload: body, signature: String(request.headers['stripe-signature']) });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  standIn.setWebhookUrl(`http://127.0.0.1:${port}/`);
  try {
    const customer = await stripe.customers.create({ name: 'Webhook' }, { idempotencyKey: key() });
    await stripe.customers.update(customer.id, { name: 'Webhook Ltd' }, { idempotencyKey: key() });
    const deadline = Date.now() + 5_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const [delivery] = received;
    assert.ok(delivery, 'no webhook arrived');
    const event = await stripe.webhooks.constructEventAsync(delivery.payload, delivery.signature, standIn.webhookSecret);
    assert.equal(event.type, 'customer.updated');
    assert.equal((event.data.object as Stripe.Customer).name, 'Webhook Ltd');
    await assert.rejects(
      stripe.webhooks.constructEventAsync(delivery.payload, delivery.signature, 'whsec_wrong'),
      Stripe.errors.StripeSignatureVerificationError,
    );
  } finally {
    standIn.setWebhookUrl(null);
    await new Promise((resolve) => receiver.close(resolve));
  }
});
