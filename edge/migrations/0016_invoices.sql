-- Issue 13: invoices. One per tenant and billing period, built in one transaction (lines, totals
-- and the tenant's next number together), so a run that dies half-way leaves nothing and the next
-- run builds it whole; a second run for the same period finds it and adds nothing. Periods chain:
-- each starts where the tenant's last invoice ended (the first where the tenant's first period
-- began) and ends at the next anchor day, or earlier when an admin closes it.

-- The last number each tenant's invoices used: taken in the invoice's own transaction, so numbers
-- have no gaps (a rolled-back invoice gives its number back).
create table invoice_counters (
  tenant_id    text primary key references tenants (id),
  last_number  integer not null check (last_number > 0)
);

create table invoices (
  id              text primary key,
  tenant_id       text not null references tenants (id),
  number          integer not null,
  period_start    timestamptz not null,
  period_end      timestamptz not null,
  currency        text not null,
  subtotal_micros bigint not null default 0,
  tax_rate_bp     integer not null,
  tax_micros      bigint not null default 0,
  total_micros    bigint not null default 0,
  -- draft: built here, not yet sent to the payment provider.
  status          text not null default 'draft' check (status in ('draft', 'open', 'paid', 'void', 'uncollectible')),
  created_at      timestamptz not null default now(),
  unique (tenant_id, period_start),
  unique (tenant_id, number),
  check (period_end > period_start)
);
create index invoices_tenant_idx on invoices (tenant_id, period_start desc);

-- Amounts are whole cents (in micros: multiples of 10,000), each rounded once, so the lines add up
-- to the subtotal exactly. `user_id`: whose seat or calls the line is.
create table invoice_lines (
  invoice_id         text not null references invoices (id) on delete cascade,
  position           integer not null,
  kind               text not null check (kind in ('seat', 'usage')),
  description        text not null,
  user_id            text,
  quantity           integer not null,
  unit               text not null check (unit in ('days', 'seconds')),
  amount_micros      bigint not null,
  primary key (invoice_id, position),
  check (amount_micros % 10000 = 0)
);

-- `micros` rounded half away from zero to whole cents.
create function to_cents(micros numeric) returns bigint language sql immutable strict parallel safe as $$
  select (sign(micros) * floor((abs(micros) + 5000) / 10000) * 10000)::bigint
$$;

-- When the billing period holding `at` ends: the next anchor day (UTC) after its start.
create function billing_period_end(anchor_day smallint, at timestamptz) returns timestamptz language sql immutable strict parallel safe as $$
  select ((billing_period_start(anchor_day, at) at time zone 'UTC') + interval '1 month') at time zone 'UTC'
$$;
