/**
 * The invoice job (the Cron Trigger, and an admin closing a period early): for each tenant whose
 * billing period ended, one invoice, each in a transaction of its own. Running it twice, or
 * again after a crash half-way, yields one invoice per period: a finished invoice is found and
 * left alone, an unfinished one was rolled back whole and is built again.
 */
import { withDb, withTransaction } from '../db/client.ts';
import { buildInvoice, currentPeriod, duePeriods, InvoiceExists } from '../db/invoices.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { ErrorCode } from '@callstack/protocol';
import { log } from '../log.ts';

/** Tenants invoiced per run at most: the next run, a minute later, takes the rest. */
export const INVOICES_PER_RUN = 100;
/** An admin may close a period early only once it has run this long (a double click closes nothing twice). */
export const MIN_CLOSED_PERIOD_MS = 60 * 60 * 1000;

/** The invoice of [start, end): built now, or found built. */
export async function invoicePeriod(env: Env, tenantId: string, start: Date, end: Date, now: Date): Promise<{ id: string; created: boolean }> {
  try {
    return { id: await withTransaction(env, (db) => buildInvoice(db, tenantId, start, end, now)), created: true };
  } catch (error) {
    if (error instanceof InvoiceExists) return { id: error.invoiceId, created: false };
    throw error;
  }
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
