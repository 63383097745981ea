/**
 * Billing's tables (migration 0015): rate decks, tenants' settings, the charge of every call to or
 * from the outside, re-rating differences and spend alerts. Rating is set-based SQL
 * (`rate_pstn_records`, one statement for any number of calls); the pure model is
 * billing/rating.ts.
 */
import type { SpendLimits, UsageGrouping, UsageRow } from '@callstack/protocol';
import type { SpendStanding } from '../billing/authorize.ts';
import { parseMicros, type Rounding } from '../billing/money.ts';
import type { RateRow } from '../billing/rateDeck.ts';
import { ALERT_THRESHOLDS, DEFAULT_BILLING } from '../billing/settings.ts';
import type { Db } from './db.ts';

/** Postgres bigints arrive as strings; the amounts here stay far below 2^53. */
const int = (value: string | number | null): number => Number(value ?? 0);

/** The tenant's settings with the defaults filled in, as a CTE on `$1` (the tenant) and `$first..$first+4`. */
function settingsCte(first: number): string {
  return `settings as (
    select coalesce(tb.plan_id, $${first}) as plan_id,
           case when tb.tenant_id is null then $${first + 1}::bigint else tb.daily_cap_micros end as daily_cap,
           case when tb.tenant_id is null then $${first + 2}::bigint else tb.monthly_cap_micros end as monthly_cap,
           coalesce(tb.anchor_day, $${first + 3}::smallint) as anchor_day,
           coalesce(tb.tax_rate_bp, $${first + 4}::integer) as tax_rate_bp
      from (select $1::text as tenant_id) t left join tenant_billing tb using (tenant_id))`;
}
const SETTINGS_DEFAULTS = [
  DEFAULT_BILLING.planId,
  DEFAULT_BILLING.dailyCapMicros,
  DEFAULT_BILLING.monthlyCapMicros,
  DEFAULT_BILLING.anchorDay,
  DEFAULT_BILLING.taxRateBasisPoints,
];

/** What was charged in the day and the period holding `$2`, adjustments included: a CTE after `settings`. */
const SPENT_CTE = `bounds as (
    select date_trunc('day', $2::timestamptz at time zone 'UTC') at time zone 'UTC' as day_start,
           billing_period_start(s.anchor_day, $2::timestamptz) as period_start
      from settings s),
  spent as (
    select coalesce(sum(c.amount) filter (where c.charged_at >= b.day_start), 0) as today,
           coalesce(sum(c.amount) filter (where c.charged_at >= b.period_start), 0) as period
      from bounds b
      left join lateral (
        select charged_at, cost_micros as amount from call_charges where tenant_id = $1 and charged_at >= least(b.day_start, b.period_start)
        union all
        select charged_at, cost_delta_micros from charge_adjustments where tenant_id = $1 and charged_at >= least(b.day_start, b.period_start)
      ) c on true)`;

/** Since when an unpaid invoice past its grace period has stopped the tenant's calls to the outside (billing/dunning.ts); null while none has. */
const SUSPENDED_SINCE = `(select min(pstn_suspended_at) from invoices where tenant_id = $1 and status = 'open' and pstn_suspended_at is not null) as suspended_since`;

interface StandingRow {
  currency: string;
  daily_cap: string | null;
  monthly_cap: string | null;
  block_above_micros: string | null;
  prefix: string | null;
  destination: string | null;
  price_per_minute_micros: string | null;
  connect_fee_micros: string | null;
  initial_seconds: number | null;
  increment_seconds: number | null;
  minimum_charge_micros: string | null;
  rounding: Rounding | null;
  today: string;
  period: string;
  suspended_since: Date | null;
}

/** The tenant's money as it stands at `at` for a call to `destination` (E.164): one round trip. */
export async function spendStanding(db: Db, tenantId: string, destination: string, at: Date): Promise<SpendStanding> {
  const { rows } = await db.query<StandingRow>(
    `with ${settingsCte(4)},
     deck as (select d.* from rate_decks d join settings s on d.plan_id = s.plan_id where d.effective_from <= $2
               order by d.effective_from desc, d.created_at desc limit 1),
     rate as (select x.* from rate_deck_rows x join deck on x.deck_id = deck.id
               where x.prefix = any(e164_prefixes($3)) and rate_applies(x.weekdays, x.hours_start, x.hours_end, $2)
               order by length(x.prefix) desc limit 1),
     ${SPENT_CTE}
     select p.currency, s.daily_cap, s.monthly_cap, deck.block_above_micros, rate.prefix, rate.destination, rate.price_per_minute_micros,
            rate.connect_fee_micros, rate.initial_seconds, rate.increment_seconds, rate.minimum_charge_micros, rate.rounding,
            spent.today, spent.period, ${SUSPENDED_SINCE}
       from settings s join billing_plans p on p.id = s.plan_id left join deck on true left join rate on true cross join spent`,
    [tenantId, at, destination, ...SETTINGS_DEFAULTS],
  );
  const row = rows[0]!;
  return {
    currency: row.currency,
    rate:
      row.prefix === null
        ? null
        : {
            prefix: row.prefix,
            destination: row.destination!,
            pricePerMinute: int(row.price_per_minute_micros),
            connectFee: int(row.connect_fee_micros),
            initialSeconds: row.initial_seconds!,
            incrementSeconds: row.increment_seconds!,
            minimumCharge: int(row.minimum_charge_micros),
            rounding: row.rounding!,
          },
    blockAboveMicros: int(row.block_above_micros),
    dailyCapMicros: row.daily_cap === null ? null : int(row.daily_cap),
    monthlyCapMicros: row.monthly_cap === null ? null : int(row.monthly_cap),
    spentTodayMicros: int(row.today),
    spentPeriodMicros: int(row.period),
    paymentOverdue: row.suspended_since !== null,
  };
}

/**
 * Charges the ended calls named (any number, one statement); a call charged already is left as
 * it is, so rating twice changes nothing. Answers the calls charged now.
 */
export async function rateCalls(db: Db, callIds: readonly string[]): Promise<{ callId: string; tenantId: string }[]> {
  if (callIds.length === 0) return [];
  const { rows } = await db.query<{ call_id: string; tenant_id: string }>(
    `insert into call_charges (call_id, tenant_id, user_id, destination, charged_at, status, deck_id, rate_line, rate_prefix,
                               destination_name, billed_seconds, cost_micros, currency)
     select * from rate_pstn_records($1::text[], $2)
     on conflict (call_id) do nothing
     returning call_id, tenant_id`,
    [callIds, DEFAULT_BILLING.planId],
  );
  return rows.map((row) => ({ callId: row.call_id, tenantId: row.tenant_id }));
}

/** Ended calls without a charge (a rating that failed after the end was written): the oldest `limit`. */
export async function unratedCalls(db: Db, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ call_id: string }>(
    `select r.call_id from pstn_call_records r
      where r.ended_at is not null and not exists (select 1 from call_charges c where c.call_id = r.call_id)
      order by r.ended_at limit $1`,
    [limit],
  );
  return rows.map((row) => row.call_id);
}

/**
 * Re-rates the tenant's charged calls that started in [from, to) against the decks in force now:
 * each difference from what was charged so far (adjustments included) becomes an adjustment of
 * run `runId`. The same run twice, or a second run with no deck change, adds nothing.
 */
export async function rerate(db: Db, runId: string, tenantId: string, from: Date, to: Date): Promise<{ calls: number; deltaMicros: number }> {
  const { rows } = await db.query<{ calls: string; delta: string | null }>(
    `with charged as (
       select c.call_id, c.cost_micros + coalesce((select sum(a.cost_delta_micros) from charge_adjustments a where a.call_id = c.call_id), 0) as so_far
         from call_charges c
        where c.tenant_id = $2 and c.charged_at >= $3 and c.charged_at < $4 and c.status <> 'free'),
     fresh as (select * from rate_pstn_records(array(select call_id from charged), $5)),
     added as (
       insert into charge_adjustments (run_id, call_id, tenant_id, charged_at, deck_id, billed_seconds, cost_delta_micros)
       select $1, f.call_id, f.tenant_id, f.charged_at, f.deck_id, f.billed_seconds, f.cost_micros - c.so_far
         from fresh f join charged c using (call_id)
        where f.cost_micros <> c.so_far
       on conflict (run_id, call_id) do nothing
       returning cost_delta_micros)
     select count(*) as calls, sum(cost_delta_micros) as delta from added`,
    [runId, tenantId, from, to, DEFAULT_BILLING.planId],
  );
  return { calls: int(rows[0]!.calls), deltaMicros: int(rows[0]!.delta) };
}

// ---- decks ----------------------------------------------------------------------------------

export interface NewRateDeck {
  id: string;
  planId: string;
  effectiveFrom: Date;
  blockAboveMicros: number;
  rows: readonly RateRow[];
}

/** Rows per insert: each statement carries one array per column. */
const DECK_BATCH = 20_000;

/** Stores a validated deck (rateDeck.ts `parseRateDeck`); run it in a transaction so a deck is all or nothing. */
export async function insertRateDeck(db: Db, deck: NewRateDeck): Promise<void> {
  await db.query('insert into rate_decks (id, plan_id, effective_from, block_above_micros, row_count) values ($1, $2, $3, $4, $5)', [
    deck.id,
    deck.planId,
    deck.effectiveFrom,
    deck.blockAboveMicros,
    deck.rows.length,
  ]);
  for (let start = 0; start < deck.rows.length; start += DECK_BATCH) {
    const batch = deck.rows.slice(start, start + DECK_BATCH);
    const column = <T>(of: (row: RateRow) => T) => batch.map(of);
    await db.query(
      `insert into rate_deck_rows (deck_id, line, prefix, destination, price_per_minute_micros, connect_fee_micros, initial_seconds,
                                   increment_seconds, minimum_charge_micros, rounding, weekdays, hours_start, hours_end)
       select $1, * from unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::int[], $8::int[], $9::bigint[],
                                $10::text[], $11::smallint[], $12::smallint[], $13::smallint[])`,
      [
        deck.id,
        column((row) => row.line),
        column((row) => row.prefix),
        column((row) => row.destination),
        column((row) => row.pricePerMinute),
        column((row) => row.connectFee),
        column((row) => row.initialSeconds),
        column((row) => row.incrementSeconds),
        column((row) => row.minimumCharge),
        column((row) => row.rounding),
        column((row) => row.weekdays),
        column((row) => row.hours?.start ?? null),
        column((row) => row.hours?.end ?? null),
      ],
    );
  }
}

/** The deck in force at `at` for the tenant's plan, with its rows in line order (for its CSV). */
export async function deckInForceFor(db: Db, tenantId: string, at: Date): Promise<{ id: string; effectiveFrom: Date; rows: RateRow[] } | null> {
  const { rows } = await db.query<{
    id: string;
    effective_from: Date;
    line: number;
    prefix: string;
    destination: string;
    price_per_minute_micros: string;
    connect_fee_micros: string;
    initial_seconds: number;
    increment_seconds: number;
    minimum_charge_micros: string;
    rounding: Rounding;
    weekdays: number;
    hours_start: number | null;
    hours_end: number | null;
  }>(
    `with ${settingsCte(3)},
     deck as (select d.* from rate_decks d join settings s on d.plan_id = s.plan_id where d.effective_from <= $2
               order by d.effective_from desc, d.created_at desc limit 1)
     select deck.id, deck.effective_from, x.* from deck join rate_deck_rows x on x.deck_id = deck.id order by x.line`,
    [tenantId, at, ...SETTINGS_DEFAULTS],
  );
  const first = rows[0];
  if (!first) return null;
  return {
    id: first.id,
    effectiveFrom: new Date(first.effective_from),
    rows: rows.map((row) => ({
      line: row.line,
      prefix: row.prefix,
      destination: row.destination,
      pricePerMinute: int(row.price_per_minute_micros),
      connectFee: int(row.connect_fee_micros),
      initialSeconds: row.initial_seconds,
      incrementSeconds: row.increment_seconds,
      minimumCharge: int(row.minimum_charge_micros),
      rounding: row.rounding,
      weekdays: row.weekdays,
      hours: row.hours_start === null ? null : { start: row.hours_start, end: row.hours_end! },
    })),
  };
}

// ---- settings, standing, usage ----------------------------------------------------------------

export interface BillingStanding {
  plan: { id: string; name: string; currency: string; seatPriceMicros: number; includedMinutesPerSeat: number; includedMinutesPerTenant: number };
  dailyCapMicros: number | null;
  monthlyCapMicros: number | null;
  anchorDay: number;
  taxRateBasisPoints: number;
  periodStart: Date;
  spentTodayMicros: number;
  spentPeriodMicros: number;
  /** Since when an unpaid invoice has stopped calls to the outside; null while none has. */
  suspendedSince: Date | null;
}

export async function billingStanding(db: Db, tenantId: string, at: Date): Promise<BillingStanding> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    currency: string;
    seat_price_micros: string;
    included_minutes_per_seat: number;
    included_minutes_per_tenant: number;
    daily_cap: string | null;
    monthly_cap: string | null;
    anchor_day: number;
    tax_rate_bp: number;
    period_start: Date;
    today: string;
    period: string;
    suspended_since: Date | null;
  }>(
    `with ${settingsCte(3)}, ${SPENT_CTE}
     select p.id, p.name, p.currency, p.seat_price_micros, p.included_minutes_per_seat, p.included_minutes_per_tenant, s.daily_cap, s.monthly_cap, s.anchor_day, s.tax_rate_bp,
            (select period_start from bounds) as period_start, spent.today, spent.period, ${SUSPENDED_SINCE}
       from settings s join billing_plans p on p.id = s.plan_id cross join spent`,
    [tenantId, at, ...SETTINGS_DEFAULTS],
  );
  const row = rows[0]!;
  return {
    plan: {
      id: row.id,
      name: row.name,
      currency: row.currency,
      seatPriceMicros: int(row.seat_price_micros),
      includedMinutesPerSeat: row.included_minutes_per_seat,
      includedMinutesPerTenant: row.included_minutes_per_tenant,
    },
    dailyCapMicros: row.daily_cap === null ? null : int(row.daily_cap),
    monthlyCapMicros: row.monthly_cap === null ? null : int(row.monthly_cap),
    anchorDay: row.anchor_day,
    taxRateBasisPoints: row.tax_rate_bp,
    periodStart: new Date(row.period_start),
    spentTodayMicros: int(row.today),
    spentPeriodMicros: int(row.period),
    suspendedSince: row.suspended_since === null ? null : new Date(row.suspended_since),
  };
}

/** Saves the tenant's caps (its other settings keep their values, or the defaults on first save). */
export async function saveSpendLimits(db: Db, tenantId: string, limits: SpendLimits): Promise<void> {
  const micros = (amount: string | null) => (amount === null ? null : parseMicros(amount));
  await db.query(
    `insert into tenant_billing (tenant_id, plan_id, daily_cap_micros, monthly_cap_micros, anchor_day, tax_rate_bp)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (tenant_id) do update set daily_cap_micros = excluded.daily_cap_micros, monthly_cap_micros = excluded.monthly_cap_micros,
                                           updated_at = now()`,
    [tenantId, DEFAULT_BILLING.planId, micros(limits.dailyCap), micros(limits.monthlyCap), DEFAULT_BILLING.anchorDay, DEFAULT_BILLING.taxRateBasisPoints],
  );
}

const USAGE_KEYS: Record<UsageGrouping, { key: string; label: string }> = {
  day: { key: `to_char(u.charged_at at time zone 'UTC', 'YYYY-MM-DD')`, label: `to_char(u.charged_at at time zone 'UTC', 'YYYY-MM-DD')` },
  user: { key: 'u.user_id', label: `coalesce(max(users.display_name), 'No one')` },
  destination: { key: 'u.destination_name', label: `coalesce(u.destination_name, 'Not in the plan')` },
};

/** Billable calls that started in [from, to), grouped as asked, with what they cost after re-rating. */
export async function usage(db: Db, tenantId: string, from: Date, to: Date, by: UsageGrouping): Promise<(Omit<UsageRow, 'cost'> & { costMicros: number })[]> {
  const { key, label } = USAGE_KEYS[by];
  const { rows } = await db.query<{ key: string | null; label: string; calls: string; billed: string; cost: string }>(
    `select ${key} as key, ${label} as label, count(*) as calls, sum(u.billed) as billed, sum(u.cost) as cost
       from (select c.user_id, c.destination_name, c.charged_at,
                    coalesce((select a.billed_seconds from charge_adjustments a where a.call_id = c.call_id order by a.created_at desc limit 1),
                             c.billed_seconds) as billed,
                    c.cost_micros + coalesce((select sum(a.cost_delta_micros) from charge_adjustments a where a.call_id = c.call_id), 0) as cost
               from call_charges c
              where c.tenant_id = $1 and c.charged_at >= $2 and c.charged_at < $3 and c.status <> 'free') u
       left join users on users.id = u.user_id and users.tenant_id = $1
      group by ${by === 'destination' ? 'u.destination_name' : key}
      order by 1 nulls last`,
    [tenantId, from, to],
  );
  return rows.map((row) => ({ key: row.key, label: row.label, calls: int(row.calls), billedSeconds: int(row.billed), costMicros: int(row.cost) }));
}

// ---- alerts ---------------------------------------------------------------------------------

export interface SpendAlert {
  tenantId: string;
  cap: 'daily' | 'monthly';
  threshold: (typeof ALERT_THRESHOLDS)[number];
  capMicros: number;
  spentMicros: number;
  currency: string;
}

/**
 * The alerts due for the tenant at `at`: each threshold of each cap that its spend has crossed and
 * that was not announced yet in this day or period. Claims them (one row each), so two ratings
 * at once announce a threshold once.
 */
export async function claimSpendAlerts(db: Db, tenantId: string, at: Date): Promise<SpendAlert[]> {
  const standing = await billingStanding(db, tenantId, at);
  const day = at.toISOString().slice(0, 10);
  const period = standing.periodStart.toISOString().slice(0, 10);
  const crossed: Omit<SpendAlert, 'tenantId' | 'currency'>[] = [];
  const caps = [
    { cap: 'daily' as const, capMicros: standing.dailyCapMicros, spentMicros: standing.spentTodayMicros },
    { cap: 'monthly' as const, capMicros: standing.monthlyCapMicros, spentMicros: standing.spentPeriodMicros },
  ];
  for (const { cap, capMicros, spentMicros } of caps) {
    if (capMicros === null) continue;
    for (const threshold of ALERT_THRESHOLDS) if (spentMicros * 100 >= capMicros * threshold) crossed.push({ cap, threshold, capMicros, spentMicros });
  }
  if (crossed.length === 0) return [];
  const { rows } = await db.query<{ period: string; threshold: number }>(
    `insert into spend_alerts (tenant_id, period, threshold)
     select $1, * from unnest($2::text[], $3::smallint[])
     on conflict do nothing returning period, threshold`,
    [tenantId, crossed.map((alert) => `${alert.cap}:${alert.cap === 'daily' ? day : period}`), crossed.map((alert) => alert.threshold)],
  );
  const claimed = new Set(rows.map((row) => `${row.period.split(':')[0]}:${row.threshold}`));
  return crossed.filter((alert) => claimed.has(`${alert.cap}:${alert.threshold}`)).map((alert) => ({ ...alert, tenantId, currency: standing.plan.currency }));
}
