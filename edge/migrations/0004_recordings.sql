-- Conference recordings: one row per recording of a room, one per track file, and who was in
-- the room while it was recorded (they may download it; roles with recordings.read_all may too).

create table recordings (
  id               text primary key,
  tenant_id        text not null references tenants (id),
  room_id          text not null,
  started_by       text references users (id) on delete set null,
  started_by_name  text not null,
  started_at       timestamptz not null,
  ended_at         timestamptz,
  -- recording: running; completed: stopped or the room emptied; interrupted: the node failed or
  -- the room moved to another node.
  status           text not null check (status in ('recording', 'completed', 'interrupted')),
  size_bytes       bigint not null default 0 check (size_bytes >= 0),
  duration_ms      integer not null default 0 check (duration_ms >= 0),
  -- Where the track files are: the node's disk (fetched through its control API) or S3.
  storage          text check (storage in ('local', 's3')),
  node_id          text not null,
  node_url         text not null
);
create index recordings_tenant_idx on recordings (tenant_id, started_at desc);

create table recording_tracks (
  recording_id  text not null references recordings (id) on delete cascade,
  track_id      text not null,
  user_id       text references users (id) on delete set null,
  peer_id       text not null,
  kind          text not null check (kind in ('audio', 'video')),
  source        text not null check (source in ('mic', 'camera', 'screen')),
  codec         text not null,
  file_key      text not null,
  storage       text not null check (storage in ('local', 's3')),
  size_bytes    bigint not null check (size_bytes >= 0),
  duration_ms   integer not null check (duration_ms >= 0),
  started_at    timestamptz not null,
  ended_at      timestamptz not null,
  primary key (recording_id, track_id)
);

create table recording_participants (
  recording_id  text not null references recordings (id) on delete cascade,
  user_id       text not null references users (id) on delete cascade,
  primary key (recording_id, user_id)
);
create index recording_participants_user_idx on recording_participants (user_id);
