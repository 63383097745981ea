-- Call quality (MOS from the ITU-T G.107 E-model, protocol/src/quality.ts), aggregated by the edge
-- from each participant's `quality.report`s: minimum MOS, averages weighted by the time each
-- report covers, the worst loss, the last codec.

-- 1:1 calls: one row per participant who reported, written with the call's CDR.
create table call_quality (
  call_id     text not null references call_records (call_id) on delete cascade,
  user_id     text not null references users (id),
  samples     integer not null check (samples > 0),
  mos_min     double precision not null,
  mos_avg     double precision not null,
  loss_avg    double precision not null,
  loss_max    double precision not null,
  jitter_avg  double precision not null,
  rtt_avg     double precision not null,
  codec       text not null,
  primary key (call_id, user_id)
);

-- Conferences: the CDR of one participant's stay in a room (join to leave or socket close), with
-- the same quality columns (null when the participant sent no report).
create table room_sessions (
  session_id  text primary key,
  tenant_id   text not null references tenants (id),
  room_id     text not null,
  user_id     text not null references users (id),
  joined_at   timestamptz not null,
  left_at     timestamptz not null,
  duration_ms integer not null check (duration_ms >= 0),
  samples     integer not null default 0 check (samples >= 0),
  mos_min     double precision,
  mos_avg     double precision,
  loss_avg    double precision,
  loss_max    double precision,
  jitter_avg  double precision,
  rtt_avg     double precision,
  codec       text
);
create index room_sessions_room_idx on room_sessions (tenant_id, room_id, joined_at);
create index room_sessions_user_idx on room_sessions (tenant_id, user_id, joined_at desc);
