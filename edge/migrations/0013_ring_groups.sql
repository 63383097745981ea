-- Issue 12: ring groups. A number may ring a group of the tenant's people, all at once or one after
-- another; members are user ids in ringing order (checked against the tenant's active users when
-- saved, and again at each call, so a deactivated member is passed over).
create table ring_groups (
  id                     text primary key,
  tenant_id              text not null references tenants (id),
  name                   text not null,
  strategy               text not null check (strategy in ('simultaneous', 'in-order')),
  member_timeout_seconds integer not null check (member_timeout_seconds between 5 and 120),
  members                text[] not null check (cardinality(members) between 1 and 20),
  created_at             timestamptz not null default now()
);
create index ring_groups_tenant_idx on ring_groups (tenant_id, name);

alter table phone_numbers add column route_group_id text references ring_groups (id);
alter table phone_numbers drop constraint phone_numbers_route_kind_check;
alter table phone_numbers add constraint phone_numbers_route_kind_check check (route_kind in ('user', 'number', 'group', 'none'));
alter table phone_numbers add constraint phone_numbers_route_group_check check ((route_kind = 'group') = (route_group_id is not null));

-- An inbound call to a group: the record names the group; `user_id` the member rung first.
alter table pstn_call_records add column ring_group_id text;
