-- Issue 12: a person may withhold their number on calls to the outside (the carrier is asked to
-- hide it, RFC 3323 Privacy: id). Their choice, kept with their account and in their export.
alter table users add column withhold_caller_id boolean not null default false;
