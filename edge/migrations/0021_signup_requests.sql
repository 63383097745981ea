-- Sign-up waits for the address to be proven: the organisation and its first admin are created
-- only when the mailed link is used. What was typed waits here (the password already hashed).
create table signup_requests (
  id             text primary key,
  email          text not null,
  token_hash     text not null unique,
  organisation   text not null,
  display_name   text not null,
  password_hash  text not null,
  expires_at     timestamptz not null,
  used_at        timestamptz,
  created_at     timestamptz not null default now()
);
create index signup_requests_email on signup_requests (email, created_at);
