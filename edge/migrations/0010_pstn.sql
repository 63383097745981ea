-- The public telephone network (issue 12): each tenant's calling policy (the toll-fraud guard's
-- settings), its numbers (DIDs) and where they ring, and a record of every call to or from the
-- outside, refused ones included, ready for rating. Trunks are the operator's configuration
-- (PSTN_TRUNKS), not rows: their credentials are secrets of the edge.

-- One row per tenant once an admin saved it; until then the defaults in edge/src/pstn/policy.ts.
create table pstn_policies (
  tenant_id                     text primary key references tenants (id),
  default_country               text not null check (default_country ~ '^[A-Z]{2}$'),
  international_countries       text[] not null default '{}',
  allowed_prefixes              text[] not null default '{}',
  max_concurrent_calls          integer not null check (max_concurrent_calls >= 0),
  max_concurrent_calls_per_user integer not null check (max_concurrent_calls_per_user >= 0),
  max_calls_per_second          real not null check (max_calls_per_second >= 0),
  max_calls_per_minute_per_user integer not null check (max_calls_per_minute_per_user >= 0),
  max_call_duration_seconds     integer not null check (max_call_duration_seconds between 60 and 86400),
  main_number                   text check (main_number ~ '^\+[1-9][0-9]{5,14}$'),
  updated_at                    timestamptz not null default now()
);

-- A number belongs to one tenant on the whole platform (a carrier delivers it to one place).
create table phone_numbers (
  number        text primary key check (number ~ '^\+[1-9][0-9]{5,14}$'),
  tenant_id     text not null references tenants (id),
  label         text not null default '',
  route_kind    text not null check (route_kind in ('user', 'number', 'none')),
  route_user_id text references users (id),
  route_number  text check (route_number ~ '^\+[1-9][0-9]{5,14}$'),
  created_at    timestamptz not null default now(),
  check ((route_kind = 'user') = (route_user_id is not null)),
  check ((route_kind = 'number') = (route_number is not null))
);
create index phone_numbers_tenant_idx on phone_numbers (tenant_id, number);
create index phone_numbers_user_idx on phone_numbers (tenant_id, route_user_id) where route_user_id is not null;

-- One row per call to or from the outside, refused or not. `refusal` is the guard's reason when the
-- edge refused it (then no trunk was tried); `final_status` the carrier leg's last SIP status.
create table pstn_call_records (
  call_id        text primary key,
  tenant_id      text not null references tenants (id),
  user_id        text references users (id),
  direction      text not null check (direction in ('outbound', 'inbound')),
  trunk_id       text,
  did            text,
  caller_id      text,
  destination    text not null,
  created_at     timestamptz not null,
  answered_at    timestamptz,
  ended_at       timestamptz,
  post_dial_delay_ms integer check (post_dial_delay_ms >= 0),
  final_status   integer check (final_status between 100 and 699),
  hangup_cause   text,
  refusal        text,
  duration_ms    integer not null default 0 check (duration_ms >= 0),
  max_duration_seconds integer
);
create index pstn_call_records_tenant_idx on pstn_call_records (tenant_id, created_at desc);
create index pstn_call_records_user_idx on pstn_call_records (tenant_id, user_id, created_at desc);
