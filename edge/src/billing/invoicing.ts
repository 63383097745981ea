/**
 * The invoice job (the Cron Trigger, and an admin closing a period early): for each tenant whose
 * billing period ended, one invoice, each in a transaction of its own, mailed with its PDF. Running it twice, or
 * again after a crash half-way, yields one invoice per period: a finished invoice is found and
 * left alone, an unfinished one was rolled back whole and is built again.
 */
import { ErrorCode } from '@callstack/protocol';
import { toBase64 } from '../auth/encoding.ts';
import { withDb, withTransaction, type Db } from '../db/client.ts';
import { buildInvoice, currentPeriod, duePeriods, findInvoice, InvoiceExists } from '../db/invoices.ts';
import { enqueueMail } from '../db/outbox.ts';
import { findTenant } from '../db/tenants.ts';
import { adminEmails } from '../db/users.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import { keepInvoicePdf } from './invoiceDocuments.ts';
import { renderInvoicePdf } from './invoicePdf.ts';
import { chargeInvoice } from './stripeSync.ts';

/** Tenants invoiced per run at most: the next run, a minute later, takes the rest. */
export const INVOICES_PER_RUN = 100;
/** An admin may close a period early only once it has run this long (a double click closes nothing twice). */
export const MIN_CLOSED_PERIOD_MS = 60 * 60 * 1000;

/**
 * The invoice of [start, end): built now, or found built. A new one is mailed to the tenant's
 * admins with its PDF, queued in the invoice's own transaction (so exactly once).
 */
export async function invoicePeriod(env: Env, tenantId: string, start: Date, end: Date, now: Date): Promise<{ id: string; created: boolean }> {
  try {
    const { id, pdf } = await withTransaction(env, async (db) => {
      const built = await buildInvoice(db, tenantId, start, end, now);
      return { id: built, pdf: await mailInvoice(db, tenantId, built) };
    });
    if (pdf) await keepInvoicePdf(env, tenantId, id, pdf);
    await deliverSoon(env);
    // Charged at once where Stripe is configured; a failure here is the cron sweep's to retry.
    await chargeInvoice(env, id).catch((error: unknown) => log.warn('billing.charge_deferred', { tenantId, invoiceId: id }, error));
    return { id, created: true };
  } catch (error) {
    if (error instanceof InvoiceExists) return { id: error.invoiceId, created: false };
    throw error;
  }
}

/** Queues the new invoice's mail to the admins, answering the PDF it attached (the document to keep). */
async function mailInvoice(db: Db, tenantId: string, invoiceId: string): Promise<Uint8Array | null> {
  const [invoice, tenant] = await Promise.all([findInvoice(db, tenantId, invoiceId), findTenant(db, tenantId)]);
  if (!invoice || !tenant) return null;
  const document = await renderInvoicePdf(invoice, tenant);
  const pdf = { filename: `invoice-${tenant.slug}-${invoice.number}.pdf`, contentType: 'application/pdf', content: toBase64(document) };
  const period = `${invoice.periodStart.slice(0, 10)} to ${invoice.periodEnd.slice(0, 10)}`;
  for (const to of await adminEmails(db, tenantId)) {
    await enqueueMail(db, {
      tenantId,
      to,
      subject: `CallStack: invoice No. ${invoice.number} for ${tenant.name}, ${invoice.total} ${invoice.currency}`,
      text: `Your invoice No. ${invoice.number} for ${period} is attached: ${invoice.total} ${invoice.currency} (tax included). It is also in Admin > Billing.\n`,
      attachments: [pdf],
    });
  }
  return document;
}

export async function runDueInvoices(env: Env, now = new Date()): Promise<{ built: number; failed: number }> {
  const due = await withDb(env, (db) => duePeriods(db, now, INVOICES_PER_RUN));
  let [built, failed] = [0, 0];
  for (const period of due) {
    try {
      const invoice = await invoicePeriod(env, period.tenantId, period.start, period.scheduledEnd, now);
      if (invoice.created) built++;
      log.info('billing.invoiced', { tenantId: period.tenantId, invoiceId: invoice.id, created: invoice.created });
    } catch (error) {
      // Left for the next run; the others go ahead.
      failed++;
      log.warn('billing.invoice_failed', { tenantId: period.tenantId }, error);
    }
  }
  return { built, failed };
}

/** Ends the tenant's running period at `now` and invoices it; the next period starts there. */
export async function closePeriod(env: Env, tenantId: string, now = new Date()): Promise<string> {
  const period = await withDb(env, (db) => currentPeriod(db, tenantId));
  if (now.getTime() - period.start.getTime() < MIN_CLOSED_PERIOD_MS) {
    throw new ApiError(ErrorCode.conflict, 'the billing period began less than an hour ago: there is nothing to close yet');
  }
  const end = period.scheduledEnd < now ? period.scheduledEnd : now;
  return (await invoicePeriod(env, tenantId, period.start, end, now)).id;
}
