/**
 * What the edge keeps of Stripe (migration 0018): each tenant's customer, each invoice's Stripe
 * invoice and payment state, and the ledger of webhook events (one row per event id).
 */
import type { InvoiceView } from '@callstack/protocol';
import type { Db } from './db.ts';

export async function stripeCustomerOf(db: Db, tenantId: string): Promise<string | null> {
  const { rows } = await db.query<{ customer_id: string }>('select customer_id from stripe_customers where tenant_id = $1', [tenantId]);
  return rows[0]?.customer_id ?? null;
}

/** Keeps the first customer stored for the tenant (a second sync racing this one made the same one: the key is the tenant's). */
export async function saveStripeCustomer(db: Db, tenantId: string, customerId: string): Promise<void> {
  await db.query('insert into stripe_customers (tenant_id, customer_id) values ($1, $2) on conflict (tenant_id) do nothing', [tenantId, customerId]);
}

export interface ChargeState {
  tenantId: string;
  stripeInvoiceId: string | null;
  status: InvoiceView['status'];
}

export async function chargeStateOf(db: Db, invoiceId: string): Promise<ChargeState | null> {
  const { rows } = await db.query<{ tenant_id: string; stripe_invoice_id: string | null; status: InvoiceView['status'] }>(
    'select tenant_id, stripe_invoice_id, status from invoices where id = $1',
    [invoiceId],
  );
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, stripeInvoiceId: row.stripe_invoice_id, status: row.status } : null;
}

export async function saveStripeInvoice(db: Db, invoiceId: string, stripeInvoiceId: string): Promise<void> {
  await db.query('update invoices set stripe_invoice_id = $2 where id = $1 and stripe_invoice_id is null', [invoiceId, stripeInvoiceId]);
}

/**
 * Invoices whose first charge was not made: drafts not yet sent to Stripe, and invoices Stripe
 * finalised whose payment try never answered (the run died between the two), oldest first.
 */
export async function unchargedInvoices(db: Db, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select id from invoices
      where status = 'draft' or (status = 'open' and payment_attempts = 0 and payment_failures = 0 and created_at < now() - interval '10 minutes')
      order by created_at limit $1`,
    [limit],
  );
  return rows.map((row) => row.id);
}

/** The order an invoice's status only moves forward in: a late event never undoes a later one. */
const RANK = `case status when 'draft' then 0 when 'open' then 1 else 2 end`;
const rankOf = (status: InvoiceView['status']) => (status === 'draft' ? 0 : status === 'open' ? 1 : 2);

/**
 * Moves the invoice (by its id or its Stripe invoice's) forward to `status`; a problem is kept only
 * while it is unpaid. Answers the invoice's id, or null when there is no such invoice.
 */
export async function advanceInvoice(
  db: Db,
  by: { invoiceId: string } | { stripeInvoiceId: string },
  status: InvoiceView['status'],
  problem: string | null = null,
): Promise<string | null> {
  const [column, id] = 'invoiceId' in by ? ['id', by.invoiceId] : ['stripe_invoice_id', by.stripeInvoiceId];
  const { rows } = await db.query<{ id: string }>(
    `update invoices set status = case when ${RANK} < $3 then $2 else status end,
                         payment_problem = case when $2 = 'paid' or status = 'paid' then null else coalesce($4, payment_problem) end,
                         paid_at = case when $2 = 'paid' and paid_at is null then now() else paid_at end
      where ${column} = $1 returning id`,
    [id, status, rankOf(status), problem],
  );
  return rows[0]?.id ?? null;
}

/** Stores a webhook event once: false when its id was seen before (a retry or a replay). */
export async function recordStripeEvent(
  db: Db,
  event: { id: string; type: string; created: number; objectId: string | null; payload: unknown },
): Promise<boolean> {
  const result = await db.query(
    `insert into stripe_events (id, type, created, object_id, payload) values ($1, $2, to_timestamp($3), $4, $5) on conflict (id) do nothing`,
    [event.id, event.type, event.created, event.objectId, JSON.stringify(event.payload)],
  );
  return (result.rowCount ?? 0) > 0;
}
