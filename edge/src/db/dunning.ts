/**
 * Each unpaid invoice's collection state (migration 0019; the state machine is billing/dunning.ts):
 * read under a row lock, so two runs never act on the same invoice at once, and written back whole.
 */
import type { DunningState } from '../billing/dunning.ts';
import { GRACE_DAYS } from '../billing/dunning.ts';
import type { Db } from './db.ts';

export interface DunningRow {
  invoiceId: string;
  tenantId: string;
  number: number;
  status: string;
  total: string;
  currency: string;
  state: DunningState;
}

const ms = (at: Date | null) => (at === null ? null : new Date(at).getTime());
const at = (ms: number | null) => (ms === null ? null : new Date(ms));

/** The invoice's state, locked until the transaction ends. In a transaction. */
export async function lockDunning(db: Db, invoiceId: string): Promise<DunningRow | null> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    number: number;
    status: string;
    total_micros: string;
    currency: string;
    payment_attempts: number;
    payment_failures: number;
    payment_failed_at: Date | null;
    next_payment_at: Date | null;
    pstn_suspended_at: Date | null;
  }>(
    `select id, tenant_id, number, status, total_micros, currency, payment_attempts, payment_failures, payment_failed_at, next_payment_at, pstn_suspended_at
       from invoices where id = $1 for update`,
    [invoiceId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    invoiceId: row.id,
    tenantId: row.tenant_id,
    number: row.number,
    status: row.status,
    total: row.total_micros,
    currency: row.currency,
    state: {
      attempts: row.payment_attempts,
      failures: row.payment_failures,
      failedAt: ms(row.payment_failed_at),
      nextTryAt: ms(row.next_payment_at),
      suspendedAt: ms(row.pstn_suspended_at),
    },
  };
}

export async function saveDunning(db: Db, invoiceId: string, state: DunningState): Promise<void> {
  await db.query(
    `update invoices set payment_attempts = $2, payment_failures = $3, payment_failed_at = $4, next_payment_at = $5, pstn_suspended_at = $6 where id = $1`,
    [invoiceId, state.attempts, state.failures, at(state.failedAt), at(state.nextTryAt), at(state.suspendedAt)],
  );
}

/** Unpaid invoices with a try due, or whose grace period ended without a stop yet, by `now`. */
export async function dueDunning(db: Db, now: Date, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select id from invoices
      where status = 'open'
        and (next_payment_at <= $1 or (pstn_suspended_at is null and payment_failed_at <= $1 - make_interval(days => $2)))
      order by coalesce(next_payment_at, payment_failed_at) limit $3`,
    [now, GRACE_DAYS, limit],
  );
  return rows.map((row) => row.id);
}
