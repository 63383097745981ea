-- Issue 13: charging invoices through Stripe. A Stripe customer per tenant; each invoice's Stripe
-- invoice and the last payment problem; and every webhook event received, once by its id (the
-- ledger: a replay or a duplicate delivery changes nothing).
create table stripe_customers (
  tenant_id    text primary key references tenants (id),
  customer_id  text not null unique,
  created_at   timestamptz not null default now()
);

alter table invoices add column stripe_invoice_id text unique;
-- Why the last charge did not succeed (a declined card, the customer's action needed).
alter table invoices add column payment_problem text;
alter table invoices add column paid_at timestamptz;

create table stripe_events (
  id           text primary key,
  type         text not null,
  -- When Stripe made the event: later events win over earlier ones, whatever order they arrive in.
  created      timestamptz not null,
  object_id    text,
  payload      jsonb not null,
  received_at  timestamptz not null default now()
);
create index stripe_events_object_idx on stripe_events (object_id, created);
