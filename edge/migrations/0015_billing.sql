-- Issue 13: billing. Plans and their rate decks (the platform operator's price lists), each
-- tenant's billing settings and spend caps, and a charge for every call to or from the outside,
-- rated in SQL (set-based) against the deck in force when the call started. The pure TypeScript
-- model of the same rules is edge/src/billing/rating.ts; tests hold the two equal.

create table billing_plans (
  id                          text primary key,
  name                        text not null,
  currency                    text not null check (currency ~ '^[A-Z]{3}$'),
  seat_price_micros           bigint not null check (seat_price_micros >= 0),
  included_minutes_per_seat   integer not null default 0 check (included_minutes_per_seat >= 0),
  created_at                  timestamptz not null default now()
);

-- A deck version: it rates calls that start from `effective_from` on, until a later deck of the
-- plan takes over, so a new deck never touches rated history. A correction is a deck with the
-- same date imported later (the newest of a date wins); re-rating applies it to calls already
-- charged, as differences.
create table rate_decks (
  id                    text primary key,
  plan_id               text not null references billing_plans (id),
  effective_from        timestamptz not null,
  -- A destination priced above this per minute is blocked (the toll-fraud guard).
  block_above_micros    bigint not null check (block_above_micros >= 0),
  row_count             integer not null check (row_count > 0),
  created_at            timestamptz not null default now()
);
create index rate_decks_plan_idx on rate_decks (plan_id, effective_from desc, created_at desc);

-- One row per prefix and time window (edge/src/billing/rateDeck.ts documents the CSV form).
create table rate_deck_rows (
  deck_id                  text not null references rate_decks (id) on delete cascade,
  line                     integer not null,
  prefix                   text not null check (prefix ~ '^[1-9][0-9]{0,14}$'),
  destination              text not null,
  price_per_minute_micros  bigint not null check (price_per_minute_micros >= 0),
  connect_fee_micros       bigint not null check (connect_fee_micros >= 0),
  initial_seconds          integer not null check (initial_seconds between 1 and 3600),
  increment_seconds        integer not null check (increment_seconds between 1 and 3600),
  minimum_charge_micros    bigint not null check (minimum_charge_micros >= 0),
  rounding                 text not null check (rounding in ('up', 'down', 'half-up')),
  -- Bit d set: the row applies on weekday d (0 = Sunday), UTC.
  weekdays                 smallint not null check (weekdays between 1 and 127),
  -- Minutes after midnight UTC, start inclusive, end exclusive; null for the whole day.
  hours_start              smallint check (hours_start between 0 and 1439),
  hours_end                smallint check (hours_end between 1 and 1440),
  primary key (deck_id, line),
  check ((hours_start is null) = (hours_end is null))
);
create index rate_deck_rows_prefix_idx on rate_deck_rows (deck_id, prefix);

-- Until an admin saves its own, a tenant has the defaults in edge/src/billing/settings.ts.
create table tenant_billing (
  tenant_id           text primary key references tenants (id),
  plan_id             text not null references billing_plans (id),
  -- Spend caps in the plan's currency; null: no cap of that kind.
  daily_cap_micros    bigint check (daily_cap_micros >= 0),
  monthly_cap_micros  bigint check (monthly_cap_micros >= 0),
  anchor_day          smallint not null default 1 check (anchor_day between 1 and 28),
  tax_rate_bp         integer not null default 0 check (tax_rate_bp between 0 and 10000),
  updated_at          timestamptz not null default now()
);

-- The E.164 number's prefixes, longest first: '+4420…' -> {'4420…', …, '44', '4'}.
create function e164_prefixes(number text) returns text[] language sql immutable strict parallel safe as $$
  select array(select left(ltrim(number, '+'), n) from generate_series(least(15, length(ltrim(number, '+'))), 1, -1) as n)
$$;

-- Whether a deck row's window holds `at` (rateDeck.ts appliesAt): a window past midnight belongs
-- to the day it starts on.
create function rate_applies(weekdays smallint, hours_start smallint, hours_end smallint, at timestamptz)
returns boolean language sql immutable parallel safe as $$
  select case
    when hours_start is null then (weekdays & (1 << dow)) <> 0
    when hours_start < hours_end then (weekdays & (1 << dow)) <> 0 and minute >= hours_start and minute < hours_end
    when minute >= hours_start then (weekdays & (1 << dow)) <> 0
    else minute < hours_end and (weekdays & (1 << ((dow + 6) % 7))) <> 0
  end
  from (select extract(dow from at at time zone 'UTC')::int as dow,
               (extract(hour from at at time zone 'UTC') * 60 + extract(minute from at at time zone 'UTC'))::int as minute) as t
$$;

-- Seconds billed for a call of `duration_ms` (rating.ts billedSecondsOf).
create function billed_seconds(duration_ms bigint, initial_seconds integer, increment_seconds integer)
returns integer language sql immutable strict parallel safe as $$
  select case
    when duration_ms <= 0 then 0
    when (duration_ms + 999) / 1000 <= initial_seconds then initial_seconds
    else initial_seconds + (((duration_ms + 999) / 1000 - initial_seconds + increment_seconds - 1) / increment_seconds) * increment_seconds
  end::integer
$$;

-- The cost in micros of `billed` seconds (rating.ts costOf): one rounding, never below the minimum.
create function rated_cost(billed integer, price bigint, connect_fee bigint, minimum_charge bigint, rounding text)
returns bigint language sql immutable strict parallel safe as $$
  select case when billed = 0 then 0::bigint else greatest(minimum_charge, connect_fee + case
    when (price * billed) % 60 = 0 or rounding = 'down' then (price * billed) / 60
    when rounding = 'up' then (price * billed) / 60 + 1
    else (price * billed) / 60 + case when ((price * billed) % 60) * 2 >= 60 then 1 else 0 end
  end) end
$$;

-- When the billing period holding `at` began: the latest anchor day (UTC) not after it.
create function billing_period_start(anchor_day smallint, at timestamptz) returns timestamptz language sql immutable strict parallel safe as $$
  select (date_trunc('month', at at time zone 'UTC')
          - case when extract(day from at at time zone 'UTC') >= anchor_day then interval '0' else interval '1 month' end
          + make_interval(days => anchor_day - 1)) at time zone 'UTC'
$$;

-- One charge per call record, written once (rating twice changes nothing). `status`: rated by a
-- row of the deck; `free` (a call in from the outside, or none answered); `no_rate` (no row
-- matches: it costs nothing here and is listed for the operator). A destination blocked for its
-- price is refused before the call, unless an admin opened it: then it is rated like any other.
-- Corrections after a deck fix go to `charge_adjustments`, never here.
-- Only the call is a foreign key: tenant, user and deck are copied from rows that reference them
-- already (and decks are never deleted), and each further key check costs a quarter of the insert.
create table call_charges (
  call_id             text primary key references pstn_call_records (call_id),
  tenant_id           text not null,
  user_id             text,
  destination         text not null,
  charged_at          timestamptz not null,
  status              text not null check (status in ('rated', 'free', 'no_rate')),
  deck_id             text,
  rate_line           integer,
  rate_prefix         text,
  destination_name    text,
  billed_seconds      integer not null check (billed_seconds >= 0),
  cost_micros         bigint not null check (cost_micros >= 0),
  currency            text not null,
  rated_at            timestamptz not null default now()
);
create index call_charges_tenant_idx on call_charges (tenant_id, charged_at);

-- A re-rating run's differences: the new deck's answer minus what was charged so far, one row
-- per call and run (running the same run again adds nothing).
create table charge_adjustments (
  run_id              text not null,
  call_id             text not null references call_charges (call_id),
  tenant_id           text not null,
  charged_at          timestamptz not null,
  deck_id             text,
  billed_seconds      integer not null,
  cost_delta_micros   bigint not null,
  created_at          timestamptz not null default now(),
  primary key (run_id, call_id)
);
create index charge_adjustments_tenant_idx on charge_adjustments (tenant_id, charged_at);

-- The charge of each ended call record named, against the deck in force when it was answered:
-- the one definition of rating in SQL, used to charge calls and to re-rate them. Billable: an
-- answered call out of the tenant (a person's, or a forward of one of its numbers); the rest is
-- free.
create function rate_pstn_records(call_ids text[], default_plan text)
returns table (call_id text, tenant_id text, user_id text, destination text, charged_at timestamptz, status text, deck_id text,
               rate_line integer, rate_prefix text, destination_name text, billed_seconds integer, cost_micros bigint, currency text)
language sql stable parallel safe as $$
  select r.call_id, r.tenant_id, r.user_id, r.destination, b.at,
         case when not b.billable then 'free' when m.line is null then 'no_rate' else 'rated' end,
         d.id, m.line, m.prefix, m.destination,
         coalesce(billed_seconds(r.duration_ms, m.initial_seconds, m.increment_seconds), 0),
         coalesce(rated_cost(billed_seconds(r.duration_ms, m.initial_seconds, m.increment_seconds), m.price_per_minute_micros,
                             m.connect_fee_micros, m.minimum_charge_micros, m.rounding), 0),
         p.currency
    from pstn_call_records r
   cross join lateral (select coalesce(r.answered_at, r.created_at) as at,
                              r.refusal is null and r.answered_at is not null
                                and (r.direction = 'outbound' or r.destination is distinct from r.did) as billable) b
    left join tenant_billing tb on tb.tenant_id = r.tenant_id
    join billing_plans p on p.id = coalesce(tb.plan_id, default_plan)
    left join lateral (select x.id from rate_decks x where x.plan_id = p.id and x.effective_from <= b.at
                        order by x.effective_from desc, x.created_at desc limit 1) d on b.billable
    left join lateral (select x.* from rate_deck_rows x
                        where x.deck_id = d.id and x.prefix = any(e164_prefixes(r.destination))
                          and rate_applies(x.weekdays, x.hours_start, x.hours_end, b.at)
                        order by length(x.prefix) desc limit 1) m on true
   where r.call_id = any(call_ids) and r.ended_at is not null
$$;

-- Which spend alerts went out: one per tenant, period and threshold (80 and 100 percent).
create table spend_alerts (
  tenant_id   text not null references tenants (id),
  period      text not null,
  threshold   smallint not null check (threshold in (80, 100)),
  sent_at     timestamptz not null default now(),
  primary key (tenant_id, period, threshold)
);

-- The plan every tenant starts on, and its deck in USD: a small international price list (the
-- operator imports a real one over it with `npm run billing -- import-deck`; GET
-- /api/admin/billing/rate-deck shows it as CSV). Premium-rate and satellite ranges are above the
-- 0.50 a minute limit, so they are blocked.
insert into billing_plans (id, name, currency, seat_price_micros, included_minutes_per_seat)
values ('standard', 'Standard', 'USD', 15000000, 0);
insert into rate_decks (id, plan_id, effective_from, block_above_micros, row_count)
values ('standard-2026', 'standard', '2026-01-01T00:00:00Z', 500000, 48);
insert into rate_deck_rows (deck_id, line, prefix, destination, price_per_minute_micros, connect_fee_micros, initial_seconds,
                            increment_seconds, minimum_charge_micros, rounding, weekdays, hours_start, hours_end)
values
  ('standard-2026', 2, '1', 'United States and Canada', 14000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 3, '1800', 'US and Canada toll-free', 0, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 4, '1833', 'US and Canada toll-free', 0, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 5, '1844', 'US and Canada toll-free', 0, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 6, '1855', 'US and Canada toll-free', 0, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 7, '1866', 'US and Canada toll-free', 0, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 8, '1877', 'US and Canada toll-free', 0, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 9, '1888', 'US and Canada toll-free', 0, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 10, '1900', 'US and Canada premium-rate', 1500000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 11, '1876', 'Jamaica', 350000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 12, '44', 'United Kingdom', 25000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 13, '447', 'United Kingdom mobile', 40000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 14, '4487', 'United Kingdom business rate', 120000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 15, '449', 'United Kingdom premium-rate', 1200000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 16, '49', 'Germany', 25000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 17, '4915', 'Germany mobile', 80000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 18, '4916', 'Germany mobile', 80000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 19, '4917', 'Germany mobile', 80000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 20, '33', 'France', 25000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 21, '336', 'France mobile', 60000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 22, '337', 'France mobile', 60000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 23, '31', 'Netherlands', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 24, '32', 'Belgium', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 25, '34', 'Spain', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 26, '39', 'Italy', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 27, '41', 'Switzerland', 40000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 28, '43', 'Austria', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 29, '45', 'Denmark', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 30, '46', 'Sweden', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 31, '47', 'Norway', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 32, '48', 'Poland', 40000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 33, '353', 'Ireland', 30000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 34, '61', 'Australia', 40000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 35, '64', 'New Zealand', 50000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 36, '81', 'Japan', 60000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 37, '91', 'India', 40000, 0, 1, 1, 0, 'up', 127, null, null),
  ('standard-2026', 38, '2', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 39, '3', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 40, '4', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 41, '5', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 42, '6', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 43, '7', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 44, '8', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 45, '9', 'Rest of the world', 250000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 46, '870', 'Inmarsat', 5000000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 47, '881', 'Global satellite networks', 3000000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 48, '882', 'International networks', 2000000, 0, 60, 60, 0, 'up', 127, null, null),
  ('standard-2026', 49, '883', 'International networks', 2000000, 0, 60, 60, 0, 'up', 127, null, null);
