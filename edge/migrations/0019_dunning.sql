-- Issue 13: dunning. An invoice whose charge failed keeps its collection state on its row
-- (billing/dunning.ts is the state machine): tries made and failed, when the first failure was,
-- when the card is tried next, and when the tenant's calls to the outside stopped for it.
alter table invoices add column payment_attempts smallint not null default 0;
alter table invoices add column payment_failures smallint not null default 0;
alter table invoices add column payment_failed_at timestamptz;
alter table invoices add column next_payment_at timestamptz;
alter table invoices add column pstn_suspended_at timestamptz;

-- The cron's sweep: unpaid invoices with a try due or a grace period to check.
create index invoices_dunning_idx on invoices (next_payment_at) where status = 'open';
-- The call path's question: does the tenant have an invoice that stopped its calls?
create index invoices_suspended_idx on invoices (tenant_id) where status = 'open' and pstn_suspended_at is not null;
