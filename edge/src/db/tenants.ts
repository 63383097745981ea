import type { Role } from '@callstack/protocol';
import type { Db } from './client.ts';

/** Creates a tenant; its slug gets a random suffix so organisations may share a name. */
export async function createTenant(db: Db, name: string): Promise<{ id: string; slug: string }> {
  const id = crypto.randomUUID();
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'org';
  const slug = `${base}-${id.slice(0, 6)}`;
  await db.query('insert into tenants (id, slug, name) values ($1, $2, $3)', [id, slug, name]);
  return { id, slug };
}

export interface NewUser {
  tenantId: string;
  email: string;
  displayName: string;
  role: Role;
  passwordHash: string;
}

/** Returns the new user's id, or null when the email is already taken. */
export async function findTenant(db: Db, tenantId: string): Promise<{ id: string; slug: string; name: string } | null> {
  const { rows } = await db.query<{ id: string; slug: string; name: string }>('select id, slug, name from tenants where id = $1', [tenantId]);
  return rows[0] ?? null;
}

export async function createUser(db: Db, user: NewUser): Promise<string | null> {
  const id = crypto.randomUUID();
  const { rowCount } = await db.query(
    `insert into users (id, tenant_id, email, display_name, role, password_hash)
     values ($1, $2, $3, $4, $5, $6) on conflict (email) do nothing`,
    [id, user.tenantId, user.email, user.displayName, user.role, user.passwordHash],
  );
  return rowCount ? id : null;
}
