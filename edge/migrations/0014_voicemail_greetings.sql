-- Issue 12: a person's own voicemail greeting, instead of the shipped one. Small (at most 1 MiB,
-- checked by the edge), so it lives with the account: in their export, erased with it.
create table voicemail_greetings (
  user_id      text primary key references users (id),
  tenant_id    text not null references tenants (id),
  content_type text not null,
  audio        bytea not null,
  updated_at   timestamptz not null default now()
);
