/**
 * Collecting unpaid invoices: carries out billing/dunning.ts. A charge's answer (declined, or
 * paid) and the cron's look at unpaid invoices each move the invoice's collection state in one
 * transaction with the mails they cause; the card is tried again outside it, with an
 * Idempotency-Key per try, so a try replayed after a lost answer charges once. Free of the Worker's
 * bindings (the cron builds a Collector from them: stripeSync.ts `collectorFor`).
 */
import Stripe from 'stripe';
import type { Db } from '../db/db.ts';
import { dueDunning, lockDunning, saveDunning, type DunningRow } from '../db/dunning.ts';
import { enqueueMail } from '../db/outbox.ts';
import { advanceInvoice, chargeStateOf } from '../db/stripe.ts';
import { adminEmails } from '../db/users.ts';
import { log } from '../log.ts';
import { dunning, type DunningEvent, type DunningNotice } from './dunning.ts';
import { formatMicros } from './money.ts';

/** Unpaid invoices looked at per cron run at most. */
const INVOICES_PER_RUN = 20;

/** What collecting needs: Stripe, and units of work on the database (one transaction each). */
export interface Collector {
  stripe: Stripe;
  transaction<T>(work: (db: Db) => Promise<T>): Promise<T>;
}

/** A charge the card's bank (or its owner) refused: the answer dunning acts on, unlike Stripe being unreachable. */
const isCardError = (error: unknown): error is Stripe.errors.StripeCardError => error instanceof Stripe.errors.StripeCardError;

/** Moves the invoice's collection state by `event`, queueing the mails; answers the tries to make. In a transaction. */
export async function applyDunning(db: Db, invoiceId: string, event: DunningEvent, now = new Date()): Promise<number[]> {
  const row = await lockDunning(db, invoiceId);
  if (!row) return [];
  // A paid (or voided) invoice is collected: only the news that calls are open again is left to give.
  if (row.status !== 'open' && event.kind !== 'paid') return [];
  const { state, effects } = dunning(row.state, event, now.getTime());
  await saveDunning(db, invoiceId, state);
  const tries: number[] = [];
  for (const effect of effects) {
    switch (effect.kind) {
      case 'try_payment':
        tries.push(effect.attempt);
        break;
      case 'notify':
        await notifyAdmins(db, row, effect.notice);
        break;
      default:
        return effect satisfies never;
    }
  }
  return tries;
}

/**
 * Tries to charge the invoice (try number `attempt`), and records the answer: paid, or declined
 * with the reason (the schedule of the next try follows). Other errors (Stripe unreachable) are
 * thrown: the state is unchanged and the lease brings the try back.
 */
export async function payInvoice(collector: Collector, invoiceId: string, stripeInvoiceId: string, attempt: number): Promise<'paid' | 'payment_failed'> {
  try {
    await collector.stripe.invoices.pay(stripeInvoiceId, {}, { idempotencyKey: `callstack-${invoiceId}-pay-${attempt}` });
  } catch (error) {
    if (!isCardError(error)) throw error;
    log.warn('billing.payment_failed', { invoiceId, attempt, code: error.code ?? 'card_error' });
    await collector.transaction(async (db) => {
      await advanceInvoice(db, { invoiceId }, 'open', error.message);
      await applyDunning(db, invoiceId, { kind: 'failed', attempt, reason: error.message });
    });
    return 'payment_failed';
  }
  await collector.transaction((db) => settlePaid(db, { invoiceId }));
  return 'paid';
}

/** The invoice is paid (a charge went through, or Stripe says so): its status, and calls open again if it had stopped them. In a transaction. */
export async function settlePaid(db: Db, by: { invoiceId: string } | { stripeInvoiceId: string }): Promise<void> {
  const invoiceId = await advanceInvoice(db, by, 'paid');
  if (invoiceId) await applyDunning(db, invoiceId, { kind: 'paid' });
}

/** The cron's look at unpaid invoices: the grace periods that ended, and the tries that are due. */
export async function runDunning(collector: Collector, now = new Date()): Promise<{ looked: number; tried: number }> {
  const ids = await collector.transaction((db) => dueDunning(db, now, INVOICES_PER_RUN));
  let tried = 0;
  for (const invoiceId of ids) {
    try {
      const { tries, state } = await collector.transaction(async (db) => {
        const tries = await applyDunning(db, invoiceId, { kind: 'due' }, now);
        return { tries, state: tries.length ? await chargeStateOf(db, invoiceId) : null };
      });
      for (const attempt of tries) {
        if (!state?.stripeInvoiceId) break;
        tried++;
        await payInvoice(collector, invoiceId, state.stripeInvoiceId, attempt);
      }
    } catch (error) {
      log.warn('billing.dunning_deferred', { invoiceId }, error);
    }
  }
  return { looked: ids.length, tried };
}

const day = (ms: number) => new Date(ms).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

function noticeMail(row: DunningRow, notice: DunningNotice): { subject: string; text: string } {
  const invoice = `invoice No. ${row.number} (${formatMicros(Number(row.total))} ${row.currency})`;
  switch (notice.kind) {
    case 'payment_failed':
      return {
        subject: `CallStack: the payment of invoice No. ${row.number} failed`,
        text:
          `The payment of ${invoice} failed: ${notice.reason}\n\n` +
          (notice.nextTryAt === null ? 'No further try is planned. ' : `The card is tried again on ${day(notice.nextTryAt)}. `) +
          `Unless the invoice is paid by ${day(notice.suspendAt)}, calls to the outside stop then (calls inside the organisation go on).\n`,
      };
    case 'pstn_suspended':
      return {
        subject: 'CallStack: calls to the outside are stopped',
        text: `${invoice[0]!.toUpperCase()}${invoice.slice(1)} is unpaid past its grace period, so calls to the outside are stopped. Calls inside the organisation go on. Paying the invoice opens them again at once.\n`,
      };
    case 'pstn_restored':
      return {
        subject: `CallStack: invoice No. ${row.number} is paid, calls to the outside are open again`,
        text: `Thank you: ${invoice} is paid. Calls to the outside are open again.\n`,
      };
    default:
      return notice satisfies never;
  }
}

async function notifyAdmins(db: Db, row: DunningRow, notice: DunningNotice): Promise<void> {
  log.warn('billing.dunning', { tenantId: row.tenantId, invoiceId: row.invoiceId, notice: notice.kind });
  const mail = noticeMail(row, notice);
  for (const to of await adminEmails(db, row.tenantId)) await enqueueMail(db, { tenantId: row.tenantId, to, ...mail });
}
