-- Extensions: a short number per user, unique in the tenant, that desk phones dial (issue 11).
-- New users get the next free one (from 100) unless one is given; existing users are numbered in
-- the order they joined.
alter table users add column extension text check (extension ~ '^[0-9]{2,8}$');

update users set extension = numbered.extension
  from (select id, (99 + row_number() over (partition by tenant_id order by created_at, id))::text as extension from users) as numbered
 where users.id = numbered.id;

create unique index users_tenant_extension_idx on users (tenant_id, extension);

-- Serialised per tenant, so two users joining at once never get the same number.
create function users_assign_extension() returns trigger language plpgsql as $$
begin
  if new.extension is null then
    perform pg_advisory_xact_lock(hashtext('users.extension:' || new.tenant_id));
    select (coalesce(max(extension::int), 99) + 1)::text into new.extension from users where tenant_id = new.tenant_id;
  end if;
  return new;
end
$$;

create trigger users_extension before insert on users for each row execute function users_assign_extension();
