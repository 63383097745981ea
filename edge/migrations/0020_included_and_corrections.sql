-- Issue 13: included minutes and corrections. A plan may include minutes per seat (prorated like
-- the seat) and per organisation: each period's calls to the outside use them up in the order
-- they were made, and the invoice shows what they covered as a line of its own. A re-rating that
-- changes calls of a period already invoiced (a deck correction) is carried by the next invoice as
-- a correction line (a credit when the calls cost less), once: each adjustment remembers the
-- invoice that carried it.
alter table billing_plans add column included_minutes_per_tenant integer not null default 0 check (included_minutes_per_tenant >= 0);

alter table charge_adjustments add column invoice_id text references invoices (id);
create index charge_adjustments_uninvoiced_idx on charge_adjustments (tenant_id, charged_at) where invoice_id is null;

alter table invoice_lines drop constraint invoice_lines_kind_check;
alter table invoice_lines add constraint invoice_lines_kind_check check (kind in ('seat', 'usage', 'included', 'correction'));
alter table invoice_lines drop constraint invoice_lines_unit_check;
alter table invoice_lines add constraint invoice_lines_unit_check check (unit in ('days', 'seconds', 'calls'));
