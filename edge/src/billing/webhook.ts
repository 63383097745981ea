/**
 * Stripe's webhooks (`POST /api/billing/stripe/webhook`, signed: the pipeline verifies the
 * `Stripe-Signature` with the SubtleCrypto provider before this runs). Each event is stored once
 * in the ledger by its id, in the same transaction as what it changes, so a retry or a replay
 * changes nothing; invoice statuses only move forward, so events arriving out of order leave the
 * latest state. An event type CallStack does not handle is refused (400) and not stored.
 */
import { ErrorCode } from '@callstack/protocol';
import { withTransaction } from '../db/client.ts';
import { advanceInvoice, recordStripeEvent } from '../db/stripe.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import { log } from '../log.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import { settlePaid } from './collections.ts';
import type { Handler } from '../pipeline.ts';

const HANDLED = ['invoice.paid', 'invoice.payment_failed', 'invoice.payment_action_required', 'invoice.finalized', 'customer.updated'] as const;
type HandledType = (typeof HANDLED)[number];

const isHandled = (type: string): type is HandledType => (HANDLED as readonly string[]).includes(type);

export const stripeWebhook: Handler<'stripe_signature'> = async ({ env, principal: event }) => {
  const { type } = event;
  if (!isHandled(type)) throw new ApiError(ErrorCode.badRequest, `event type ${type} is not one CallStack handles (${HANDLED.join(', ')})`);
  const object = event.data.object as { id?: string };
  const fresh = await withTransaction(env, async (db) => {
    if (!(await recordStripeEvent(db, { id: event.id, type, created: event.created, objectId: object.id ?? null, payload: event }))) return false;
    const stripeInvoiceId = object.id ?? '';
    switch (type) {
      case 'invoice.paid':
        await settlePaid(db, { stripeInvoiceId });
        break;
      case 'invoice.finalized':
        await advanceInvoice(db, { stripeInvoiceId }, 'open');
        break;
      case 'invoice.payment_failed':
        await advanceInvoice(db, { stripeInvoiceId }, 'open', 'the payment failed');
        break;
      case 'invoice.payment_action_required':
        await advanceInvoice(db, { stripeInvoiceId }, 'open', 'the payment needs the customer to confirm it');
        break;
      case 'customer.updated':
        // Kept in the ledger; the tenant's own details stay CallStack's.
        break;
      default:
        return type satisfies never;
    }
    return true;
  });
  log.info('billing.stripe_event', { eventId: event.id, type, duplicate: !fresh });
  // A paid invoice that had stopped calls tells the admins they are open again.
  if (fresh && type === 'invoice.paid') await deliverSoon(env);
  return json({ received: true, duplicate: !fresh });
};
