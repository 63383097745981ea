-- Organisations run themselves: invites, API keys and an audit log of every admin action and
-- security event.
create table invites (
  id           text primary key,
  tenant_id    text not null references tenants (id),
  email        text not null,
  role         text not null check (role in ('admin', 'operator', 'user')),
  token_hash   text not null unique,
  invited_by   text not null references users (id),
  expires_at   timestamptz not null,
  accepted_at  timestamptz,
  created_at   timestamptz not null default now()
);
create index invites_tenant_idx on invites (tenant_id, created_at desc);

-- Keys for server-to-server use. Only a SHA-256 hash is stored; the prefix identifies a key in
-- lists and logs without revealing it.
create table api_keys (
  id            text primary key,
  tenant_id     text not null references tenants (id),
  name          text not null,
  prefix        text not null,
  key_hash      text not null unique,
  role          text not null check (role in ('admin', 'operator', 'user')),
  created_by    text not null references users (id),
  created_at    timestamptz not null default now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
create index api_keys_tenant_idx on api_keys (tenant_id);

create table audit_log (
  id           bigserial primary key,
  tenant_id    text not null references tenants (id),
  actor_type   text not null check (actor_type in ('user', 'api_key', 'anonymous')),
  actor_id     text,
  action       text not null,
  target_type  text,
  target_id    text,
  ip           text,
  details      jsonb not null default '{}'::jsonb,
  created_at   timestamptz not null default now()
);
create index audit_log_tenant_idx on audit_log (tenant_id, created_at desc, id desc);
