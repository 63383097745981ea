/**
 * Charging an invoice through Stripe: the tenant's customer (made once), a Stripe invoice with
 * one item per line and the tax, finalised, then paid. Every write carries an Idempotency-Key
 * derived from the invoice (and its line), so a run that died half-way and runs again, or two
 * runs at once, make each object once and charge once.
 */
import { withDb, withTransaction } from '../db/client.ts';
import { findInvoice } from '../db/invoices.ts';
import { chargeStateOf, unchargedInvoices, saveStripeCustomer, saveStripeInvoice, stripeCustomerOf } from '../db/stripe.ts';
import { findTenant } from '../db/tenants.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import { payInvoice, settlePaid, type Collector } from './collections.ts';
import { parseSignedMicros } from './money.ts';
import { stripeClient } from './stripe.ts';

/** Invoices sent to Stripe per cron run at most. */
const CHARGES_PER_RUN = 20;
const cents = (amount: string) => Math.round(parseSignedMicros(amount)! / 10_000);

/** The edge's collector; null when Stripe is not configured (invoices then stay drafts). */
export function collectorFor(env: Env): Collector | null {
  const stripe = stripeClient(env);
  return stripe && { stripe, transaction: (work) => withTransaction(env, work) };
}

export type ChargeOutcome = 'not_configured' | 'paid' | 'payment_failed';

export async function chargeInvoice(env: Env, invoiceId: string): Promise<ChargeOutcome> {
  const collector = collectorFor(env);
  if (!collector) return 'not_configured';
  const { stripe } = collector;
  const loaded = await withDb(env, async (db) => {
    const state = await chargeStateOf(db, invoiceId);
    if (!state) return null;
    const [invoice, tenant, customerId] = await Promise.all([
      findInvoice(db, state.tenantId, invoiceId),
      findTenant(db, state.tenantId),
      stripeCustomerOf(db, state.tenantId),
    ]);
    return invoice && tenant ? { state, invoice, tenant, customerId } : null;
  });
  if (!loaded) return 'not_configured';
  const { state, invoice, tenant } = loaded;
  if (state.status === 'paid') return 'paid';
  const key = (step: string) => `callstack-${invoice.id}-${step}`;

  let customerId = loaded.customerId;
  if (!customerId) {
    const customer = await stripe.customers.create(
      { name: tenant.name, metadata: { callstack_tenant: tenant.id } },
      { idempotencyKey: `callstack-customer-${tenant.id}` },
    );
    await withDb(env, (db) => saveStripeCustomer(db, tenant.id, customer.id));
    customerId = (await withDb(env, (db) => stripeCustomerOf(db, tenant.id)))!;
  }

  let stripeInvoiceId = state.stripeInvoiceId;
  if (!stripeInvoiceId) {
    const created = await stripe.invoices.create(
      {
        customer: customerId,
        currency: invoice.currency.toLowerCase(),
        auto_advance: false,
        collection_method: 'charge_automatically',
        pending_invoice_items_behavior: 'exclude',
        description: `CallStack invoice No. ${invoice.number}, ${invoice.periodStart.slice(0, 10)} to ${invoice.periodEnd.slice(0, 10)}`,
        metadata: { callstack_invoice: invoice.id, callstack_number: String(invoice.number) },
      },
      { idempotencyKey: key('invoice') },
    );
    stripeInvoiceId = created.id;
    await withDb(env, (db) => saveStripeInvoice(db, invoice.id, created.id));
  }

  // Finalised already (Stripe said so): its items are in, and a finalised invoice takes no more.
  if (state.status === 'draft') {
    const items = invoice.lines.map((line, index) => ({ step: `line-${index + 1}`, amount: cents(line.amount), description: line.description }));
    if (cents(invoice.tax) !== 0) items.push({ step: 'tax', amount: cents(invoice.tax), description: `Tax ${invoice.taxRatePercent}%` });
    for (const item of items.filter((each) => each.amount !== 0)) {
      await stripe.invoiceItems.create(
        { customer: customerId, invoice: stripeInvoiceId, amount: item.amount, currency: invoice.currency.toLowerCase(), description: item.description },
        { idempotencyKey: key(item.step) },
      );
    }
    // The status moves only after the payment try: a run that dies before it is swept up and sent again.
    await stripe.invoices.finalizeInvoice(stripeInvoiceId, {}, { idempotencyKey: key('finalize') });
  }
  // Nothing to pay (a credit larger than the charges stays with Stripe as the customer's balance).
  if (cents(invoice.total) <= 0) {
    await collector.transaction((db) => settlePaid(db, { invoiceId: invoice.id }));
    return 'paid';
  }
  const outcome = await payInvoice(collector, invoice.id, stripeInvoiceId, 1);
  // A declined card's mail to the admins.
  await deliverSoon(env);
  return outcome;
}

/** The cron sweep: invoices whose first charge was not made (Stripe was down, or the run died), a few per run. */
export async function chargeUnchargedInvoices(env: Env): Promise<number> {
  if (!stripeClient(env)) return 0;
  const ids = await withDb(env, (db) => unchargedInvoices(db, CHARGES_PER_RUN));
  for (const id of ids) {
    await chargeInvoice(env, id).catch((error: unknown) => log.warn('billing.charge_deferred', { invoiceId: id }, error));
  }
  return ids.length;
}
