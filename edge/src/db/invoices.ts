/**
 * Invoices (migration 0016): which tenants have a period to invoice, building one invoice (seat
 * lines prorated by the time each person was active, usage lines by person and destination from
 * the charges, tax, totals) and reading them back. `buildInvoice` must run in a transaction: its
 * statements and the tenant's invoice number stand or fall together.
 */
import type { InvoiceLineView, InvoiceView } from '@callstack/protocol';
import { formatMicros, formatSignedMicros } from '../billing/money.ts';
import { DEFAULT_BILLING } from '../billing/settings.ts';
import { billingStanding } from './billing.ts';
import type { Db } from './db.ts';

const int = (value: string | number | null): number => Number(value ?? 0);

export interface InvoicePeriod {
  tenantId: string;
  start: Date;
  /** Where the period ends on schedule (the next anchor day after its start). */
  scheduledEnd: Date;
}

/** Each tenant's period: from its last invoice's end (or its first period's start) to the next anchor day. */
const PERIODS = `
  select t.id as tenant_id, p.start, billing_period_end(p.anchor, p.start) as scheduled_end
    from tenants t
    left join tenant_billing tb on tb.tenant_id = t.id
    cross join lateral (
      select coalesce(tb.anchor_day, $1::smallint) as anchor,
             coalesce((select max(i.period_end) from invoices i where i.tenant_id = t.id),
                      billing_period_start(coalesce(tb.anchor_day, $1::smallint), t.created_at)) as start) p`;

interface PeriodRow {
  tenant_id: string;
  start: Date;
  scheduled_end: Date;
}
const toPeriod = (row: PeriodRow): InvoicePeriod => ({ tenantId: row.tenant_id, start: new Date(row.start), scheduledEnd: new Date(row.scheduled_end) });

/** Tenants whose period ended by `now`, the longest overdue first (a tenant behind by several periods gets one per run). */
export async function duePeriods(db: Db, now: Date, limit: number): Promise<InvoicePeriod[]> {
  const { rows } = await db.query<PeriodRow>(`select * from (${PERIODS}) d where d.scheduled_end <= $2 order by d.scheduled_end, d.tenant_id limit $3`, [
    DEFAULT_BILLING.anchorDay,
    now,
    limit,
  ]);
  return rows.map(toPeriod);
}

/** The tenant's period now running. */
export async function currentPeriod(db: Db, tenantId: string): Promise<InvoicePeriod> {
  const { rows } = await db.query<PeriodRow>(`select * from (${PERIODS}) d where d.tenant_id = $2`, [DEFAULT_BILLING.anchorDay, tenantId]);
  return toPeriod(rows[0]!);
}

/** The invoice of [start, end) is there already: the run adds nothing. */
export class InvoiceExists extends Error {
  constructor(readonly invoiceId: string) {
    super(`invoice ${invoiceId} exists`);
  }
}

/**
 * Builds the tenant's invoice of [start, end) at `now`, in the caller's transaction. Throws
 * InvoiceExists when that period has one (the caller rolls back, so the number is not used).
 */
export async function buildInvoice(db: Db, tenantId: string, start: Date, end: Date, now: Date): Promise<string> {
  const id = `inv-${tenantId}-${start.toISOString().replace(/[-:.]/g, '')}`;
  const existing = await db.query<{ id: string }>('select id from invoices where tenant_id = $1 and period_start = $2', [tenantId, start]);
  if (existing.rows[0]) throw new InvoiceExists(existing.rows[0].id);
  const settings = await billingStanding(db, tenantId, now);
  const { rows: numbered } = await db.query<{ last_number: number }>(
    `insert into invoice_counters (tenant_id, last_number) values ($1, 1)
     on conflict (tenant_id) do update set last_number = invoice_counters.last_number + 1 returning last_number`,
    [tenantId],
  );
  const inserted = await db.query(
    `insert into invoices (id, tenant_id, number, period_start, period_end, currency, tax_rate_bp) values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (tenant_id, period_start) do nothing`,
    [id, tenantId, numbered[0]!.last_number, start, end, settings.plan.currency, settings.taxRateBasisPoints],
  );
  // Another run built it since we looked: it wins, and our number goes back with the rollback.
  if (inserted.rowCount === 0) throw new InvoiceExists(id);

  // A seat for each person active in the period, prorated by the share of the full anchor month they were.
  await db.query(
    `insert into invoice_lines (invoice_id, position, kind, description, user_id, quantity, unit, amount_micros)
     select $1, row_number() over (order by u.display_name, u.id), 'seat', 'Seat: ' || u.display_name, u.id,
            ceil(extract(epoch from (s.until - s.since)) / 86400)::int, 'days',
            to_cents($5::numeric * extract(epoch from (s.until - s.since)) /
                     extract(epoch from (billing_period_end($6::smallint, $3) - billing_period_start($6::smallint, $3))))
       from users u
      cross join lateral (select greatest(u.created_at, $3::timestamptz) as since,
                                 least(coalesce(u.deactivated_at, 'infinity'), coalesce(u.erased_at, 'infinity'), $4::timestamptz) as until) s
      where u.tenant_id = $2 and s.until > s.since`,
    [id, tenantId, start, end, settings.plan.seatPriceMicros, settings.anchorDay],
  );
  // Calls to the outside by person and destination, with what re-rating changed.
  await db.query(
    `insert into invoice_lines (invoice_id, position, kind, description, user_id, quantity, unit, amount_micros)
     select $1, (select count(*) from invoice_lines where invoice_id = $1) + row_number() over (order by u.display_name nulls last, g.destination_name),
            'usage', coalesce(u.display_name, 'Forwarded calls') || ': calls to ' || coalesce(g.destination_name, 'other destinations'),
            g.user_id, g.billed, 'seconds', to_cents(g.cost)
       from (select c.user_id, c.destination_name, sum(coalesce(a.billed, c.billed_seconds))::int as billed, sum(c.cost_micros + coalesce(a.delta, 0)) as cost
               from call_charges c
               left join lateral (select sum(x.cost_delta_micros) as delta,
                                         (array_agg(x.billed_seconds order by x.created_at desc))[1] as billed
                                    from charge_adjustments x where x.call_id = c.call_id) a on true
              where c.tenant_id = $2 and c.charged_at >= $3 and c.charged_at < $4 and c.status = 'rated'
              group by c.user_id, c.destination_name) g
       left join users u on u.id = g.user_id`,
    [id, tenantId, start, end],
  );
  // What the plan's included minutes covered: the period's calls in the order they were made, until
  // the minutes (per seat, prorated like the seat, and per organisation) run out; never more than the usage lines.
  await db.query(
    `insert into invoice_lines (invoice_id, position, kind, description, user_id, quantity, unit, amount_micros)
     with pool as (
       select ($6::numeric * 60 + $5::numeric * 60 * coalesce(sum(extract(epoch from (s.until - s.since))), 0)
                / extract(epoch from (billing_period_end($7::smallint, $3) - billing_period_start($7::smallint, $3))))::bigint as seconds
         from users u
        cross join lateral (select greatest(u.created_at, $3::timestamptz) as since,
                                   least(coalesce(u.deactivated_at, 'infinity'), coalesce(u.erased_at, 'infinity'), $4::timestamptz) as until) s
        where u.tenant_id = $2 and s.until > s.since),
     calls as (
       select coalesce(a.billed, c.billed_seconds) as billed, c.cost_micros + coalesce(a.delta, 0) as cost,
              sum(coalesce(a.billed, c.billed_seconds)) over (order by c.charged_at, c.call_id) as upto
         from call_charges c
         left join lateral (select sum(x.cost_delta_micros) as delta, (array_agg(x.billed_seconds order by x.created_at desc))[1] as billed
                              from charge_adjustments x where x.call_id = c.call_id) a on true
        where c.tenant_id = $2 and c.charged_at >= $3 and c.charged_at < $4 and c.status = 'rated'),
     covered as (select least(c.billed, greatest(0, p.seconds - (c.upto - c.billed))) as seconds, c.billed, c.cost from calls c cross join pool p where c.billed > 0)
     select $1, (select count(*) from invoice_lines where invoice_id = $1) + 1, 'included',
            'Included minutes: ' || ceil(sum(seconds) / 60.0)::int || ' of ' || (select seconds / 60 from pool) || ' used', null, sum(seconds)::int, 'seconds',
            -least(to_cents(sum(cost * seconds / billed)),
                   (select coalesce(sum(amount_micros), 0) from invoice_lines where invoice_id = $1 and kind = 'usage'))
       from covered having sum(seconds) > 0`,
    [id, tenantId, start, end, settings.plan.includedMinutesPerSeat, settings.plan.includedMinutesPerTenant, settings.anchorDay],
  );
  // Differences from re-rating: those of this period's calls are in its usage lines; those of earlier
  // periods' calls (invoiced already) make one correction line, a credit when the calls cost less. Each is carried once.
  await db.query(
    `insert into invoice_lines (invoice_id, position, kind, description, user_id, quantity, unit, amount_micros)
     select $1, (select count(*) from invoice_lines where invoice_id = $1) + 1, 'correction',
            'Corrections: calls of earlier periods re-rated', null, count(distinct call_id), 'calls', to_cents(sum(cost_delta_micros))
       from charge_adjustments where tenant_id = $2 and invoice_id is null and charged_at < $3
     having to_cents(sum(cost_delta_micros)) <> 0`,
    [id, tenantId, start],
  );
  await db.query(`update charge_adjustments set invoice_id = $1 where tenant_id = $2 and invoice_id is null and charged_at < $3`, [id, tenantId, end]);
  await db.query(
    `update invoices i set subtotal_micros = l.subtotal, tax_micros = to_cents(l.subtotal::numeric * i.tax_rate_bp / 10000),
                           total_micros = l.subtotal + to_cents(l.subtotal::numeric * i.tax_rate_bp / 10000)
       from (select coalesce(sum(amount_micros), 0) as subtotal from invoice_lines where invoice_id = $1) l
      where i.id = $1`,
    [id],
  );
  return id;
}

interface InvoiceRow {
  id: string;
  number: number;
  period_start: Date;
  period_end: Date;
  currency: string;
  subtotal_micros: string;
  tax_rate_bp: number;
  tax_micros: string;
  total_micros: string;
  status: InvoiceView['status'];
  payment_problem: string | null;
  created_at: Date;
}

function toView(row: InvoiceRow): InvoiceView {
  return {
    id: row.id,
    number: row.number,
    periodStart: new Date(row.period_start).toISOString(),
    periodEnd: new Date(row.period_end).toISOString(),
    currency: row.currency,
    subtotal: formatSignedMicros(int(row.subtotal_micros)),
    taxRatePercent: formatMicros(row.tax_rate_bp * 10_000),
    tax: formatSignedMicros(int(row.tax_micros)),
    total: formatSignedMicros(int(row.total_micros)),
    status: row.status,
    paymentProblem: row.payment_problem,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

const INVOICE_COLUMNS =
  'id, number, period_start, period_end, currency, subtotal_micros, tax_rate_bp, tax_micros, total_micros, status, payment_problem, created_at';

export async function listInvoices(db: Db, tenantId: string, limit: number): Promise<InvoiceView[]> {
  const { rows } = await db.query<InvoiceRow>(`select ${INVOICE_COLUMNS} from invoices where tenant_id = $1 order by number desc limit $2`, [tenantId, limit]);
  return rows.map(toView);
}

export async function findInvoice(db: Db, tenantId: string, id: string): Promise<(InvoiceView & { lines: InvoiceLineView[] }) | null> {
  const { rows } = await db.query<InvoiceRow>(`select ${INVOICE_COLUMNS} from invoices where tenant_id = $1 and id = $2`, [tenantId, id]);
  if (!rows[0]) return null;
  const lines = await db.query<{
    kind: InvoiceLineView['kind'];
    description: string;
    user_id: string | null;
    quantity: number;
    unit: InvoiceLineView['unit'];
    amount_micros: string;
  }>('select kind, description, user_id, quantity, unit, amount_micros from invoice_lines where invoice_id = $1 order by position', [id]);
  return {
    ...toView(rows[0]),
    lines: lines.rows.map((line) => ({
      kind: line.kind,
      description: line.description,
      userId: line.user_id,
      quantity: line.quantity,
      unit: line.unit,
      amount: formatSignedMicros(int(line.amount_micros)),
    })),
  };
}
