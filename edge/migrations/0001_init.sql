-- Tenants, users, refresh tokens and call detail records: the foundation's schema.
create table tenants (
  id          text primary key,
  slug        text not null unique,
  name        text not null,
  created_at  timestamptz not null default now()
);

create table users (
  id             text primary key,
  tenant_id      text not null references tenants (id),
  email          text not null unique,
  display_name   text not null,
  role           text not null check (role in ('admin', 'operator', 'user')),
  password_hash  text not null,
  created_at     timestamptz not null default now(),
  deactivated_at timestamptz
);
create index users_tenant_idx on users (tenant_id);

-- Refresh tokens are stored as SHA-256 hashes; a family links every rotation of one sign-in so
-- that replaying a rotated token can revoke the whole family.
create table refresh_tokens (
  id          text primary key,
  tenant_id   text not null references tenants (id),
  user_id     text not null references users (id) on delete cascade,
  family_id   text not null,
  token_hash  text not null unique,
  expires_at  timestamptz not null,
  revoked_at  timestamptz,
  created_at  timestamptz not null default now()
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);

-- One row per call attempt, answered or not. Written by the edge when the call ends.
create table call_records (
  call_id      text primary key,
  tenant_id    text not null references tenants (id),
  caller_id    text not null references users (id),
  callee_id    text not null references users (id),
  created_at   timestamptz not null,
  answered_at  timestamptz,
  ended_at     timestamptz not null,
  end_reason   text not null,
  duration_ms  integer not null check (duration_ms >= 0)
);
create index call_records_caller_idx on call_records (tenant_id, caller_id, created_at desc);
create index call_records_callee_idx on call_records (tenant_id, callee_id, created_at desc);
