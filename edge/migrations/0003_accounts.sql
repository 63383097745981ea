-- Account security and personal data: login throttling, password resets, the mail outbox, SIP
-- credentials, contacts, and erasure of a user's personal data.

-- Failed sign-ins counted per key (`account:<email>` or `ip:<address>`). After a threshold each
-- further failure doubles the lock; a success clears the account's row.
create table login_throttle (
  key           text primary key,
  failures      integer not null default 0,
  window_start  timestamptz not null default now(),
  locked_until  timestamptz
);

-- Single-use password reset tokens, stored as SHA-256 hashes.
create table password_resets (
  id          text primary key,
  tenant_id   text not null references tenants (id),
  user_id     text not null references users (id) on delete cascade,
  token_hash  text not null unique,
  expires_at  timestamptz not null,
  used_at     timestamptz,
  created_at  timestamptz not null default now()
);
create index password_resets_user_idx on password_resets (user_id);

-- Mail is written here in the transaction that causes it and delivered later by the sender
-- (cron and right after the request), so a failed delivery never loses or duplicates a message.
create table outbox (
  id          text primary key,
  tenant_id   text references tenants (id),
  to_address  text not null,
  subject     text not null,
  body_text   text not null,
  created_at  timestamptz not null default now(),
  sent_at     timestamptz,
  attempts    integer not null default 0,
  next_try_at timestamptz not null default now(),
  last_error  text
);
create index outbox_pending_idx on outbox (next_try_at) where sent_at is null;

-- Digest credentials for SIP phones. Only HA1 = MD5(username:realm:password) is stored, which is
-- what Kamailio's digest check needs; the password is shown once when generated.
create table sip_credentials (
  user_id     text primary key references users (id) on delete cascade,
  tenant_id   text not null references tenants (id),
  username    text not null unique,
  realm       text not null,
  ha1         text not null,
  created_at  timestamptz not null default now(),
  rotated_at  timestamptz not null default now()
);

-- A personal address book: colleagues (user_id) or external numbers (E.164).
create table contacts (
  id            text primary key,
  tenant_id     text not null references tenants (id),
  owner_id      text not null references users (id) on delete cascade,
  user_id       text references users (id) on delete cascade,
  phone_e164    text,
  display_name  text not null,
  favorite      boolean not null default false,
  created_at    timestamptz not null default now(),
  check ((user_id is null) <> (phone_e164 is null))
);
create unique index contacts_owner_user_idx on contacts (owner_id, user_id) where user_id is not null;
create unique index contacts_owner_phone_idx on contacts (owner_id, phone_e164) where phone_e164 is not null;

-- An erased user stays as a tombstone row so call records (kept for billing) still reference it.
alter table users add column erased_at timestamptz;
