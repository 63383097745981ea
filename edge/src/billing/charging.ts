/**
 * Charging ended calls: rating them (set-based, idempotent) and telling the admins when the spend
 * crosses 80% or 100% of a cap. Called where a call's end is written (the gateway's `ended`, a
 * call session's record) and by the cron sweep that charges what a failure left unrated.
 */
import { claimSpendAlerts, rateCalls, unratedCalls, type SpendAlert } from '../db/billing.ts';
import { withDb, type Db } from '../db/client.ts';
import { enqueueMail } from '../db/outbox.ts';
import { adminEmails } from '../db/users.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { deliverSoon } from '../mail/deliverOutbox.ts';
import { formatMicros } from './money.ts';

/** Charges the calls named; answers the alerts it queued (the caller delivers the outbox soon). */
export async function chargeCalls(db: Db, callIds: readonly string[], now = new Date()): Promise<SpendAlert[]> {
  const charged = await rateCalls(db, callIds);
  const alerts: SpendAlert[] = [];
  for (const tenantId of new Set(charged.map((call) => call.tenantId))) {
    for (const alert of await claimSpendAlerts(db, tenantId, now)) {
      alerts.push(alert);
      log.warn('billing.spend_alert', { tenantId, cap: alert.cap, threshold: alert.threshold });
      const cap = `${alert.cap === 'daily' ? 'daily' : 'monthly'} spending limit`;
      const spent = `${formatMicros(alert.spentMicros)} of ${formatMicros(alert.capMicros)} ${alert.currency}`;
      for (const to of await adminEmails(db, tenantId)) {
        await enqueueMail(db, {
          tenantId,
          to,
          subject: alert.threshold === 100 ? `CallStack: your ${cap} is reached` : `CallStack: ${alert.threshold}% of your ${cap} is used`,
          text:
            alert.threshold === 100
              ? `Calls to the outside have used ${spent}, the ${cap}. New calls to the outside are refused until it resets or an admin raises it (Admin > Billing).\n`
              : `Calls to the outside have used ${spent} (${alert.threshold}% of the ${cap}). At the limit, new calls to the outside are refused (Admin > Billing).\n`,
        });
      }
    }
  }
  return alerts;
}

/**
 * Charges calls whose end was just written, on a connection of its own. A failure is logged and
 * left to the cron sweep: the end is recorded either way, and charging later changes nothing.
 */
export async function chargeEnded(env: Env, callIds: readonly string[]): Promise<void> {
  if (callIds.length === 0) return;
  try {
    const alerts = await withDb(env, (db) => chargeCalls(db, callIds));
    if (alerts.length) await deliverSoon(env);
  } catch (error) {
    log.warn('billing.charge_failed', { calls: callIds.length, callId: callIds[0] }, error);
  }
}

/** The cron sweep: charges ended calls that have no charge yet, a batch per run. */
export async function chargeUnrated(db: Db, batch = 1_000): Promise<number> {
  const callIds = await unratedCalls(db, batch);
  await chargeCalls(db, callIds);
  return callIds.length;
}
