-- Kamailio's registrations (usrloc in db_mode 3), shared by every SIP node of the region: a phone
-- registered through one node is found by all of them, and survives a Kamailio restart. The table
-- is Kamailio 5.6's own schema for `location` (/usr/share/kamailio/postgres/usrloc-create.sql, table
-- version 9), column for column: usrloc reads and writes it itself, and at start refuses a table
-- whose row in `version` says otherwise. Only Kamailio touches these two tables.
create table if not exists version (
  id serial primary key not null,
  table_name varchar(32) not null,
  table_version integer default 0 not null,
  constraint version_table_name_idx unique (table_name)
);
insert into version (table_name, table_version) values ('version', 1) on conflict (table_name) do nothing;

create table location (
  id serial primary key not null,
  ruid varchar(64) default '' not null,
  username varchar(64) default '' not null,
  domain varchar(64) default null,
  contact varchar(512) default '' not null,
  received varchar(128) default null,
  path varchar(512) default null,
  expires timestamp without time zone default '2030-05-28 21:32:15' not null,
  q real default 1.0 not null,
  callid varchar(255) default 'Default-Call-ID' not null,
  cseq integer default 1 not null,
  last_modified timestamp without time zone default '2000-01-01 00:00:01' not null,
  flags integer default 0 not null,
  cflags integer default 0 not null,
  user_agent varchar(255) default '' not null,
  socket varchar(64) default null,
  methods integer default null,
  instance varchar(255) default null,
  reg_id integer default 0 not null,
  server_id integer default 0 not null,
  connection_id integer default 0 not null,
  keepalive integer default 0 not null,
  partition integer default 0 not null,
  constraint location_ruid_idx unique (ruid)
);

create index location_account_contact_idx on location (username, domain, contact);
create index location_expires_idx on location (expires);
create index location_tcpcon_idx on location (connection_id);
create index location_connection_idx on location (server_id, connection_id);

insert into version (table_name, table_version) values ('location', 9)
  on conflict (table_name) do update set table_version = excluded.table_version;
