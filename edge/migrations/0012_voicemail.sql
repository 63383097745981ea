-- Issue 12: voicemail. An outside caller nobody answered leaves a message; the gateway that
-- carried the call keeps the file (node_url serves it, signed) and the edge files it here, in the
-- mailbox of the user the number rang. One message per call. The user's personal data: listed in
-- their export, erased with their account.
create table voicemails (
  id           text primary key,
  tenant_id    text not null references tenants (id),
  user_id      text not null references users (id),
  call_id      text not null unique,
  caller_number text,
  received_at  timestamptz not null,
  duration_ms  integer not null check (duration_ms >= 0),
  size_bytes   bigint not null check (size_bytes >= 0),
  content_type text not null,
  file_key     text not null,
  node_id      text not null,
  node_url     text not null,
  heard_at     timestamptz
);
create index voicemails_mailbox_idx on voicemails (tenant_id, user_id, received_at desc);
