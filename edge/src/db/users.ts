import type { AdminUserView, DirectoryEntry, Role, UserView } from '@callstack/protocol';
import type { Db } from './db.ts';
import { revokeAllRefreshTokens } from './sessions.ts';

export interface UserRow extends UserView {
  passwordHash: string;
}

interface RawUser {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  role: Role;
  password_hash: string;
}

const USER_COLUMNS = 'id, tenant_id, email, display_name, role, password_hash';

export async function findActiveUserByEmail(db: Db, email: string): Promise<UserRow | null> {
  const { rows } = await db.query<RawUser>(`select ${USER_COLUMNS} from users where email = $1 and deactivated_at is null`, [email]);
  return rows[0] ? toUser(rows[0]) : null;
}

/** Any account, active or not, holds the address (addresses are unique across organisations). */
export async function emailTaken(db: Db, email: string): Promise<boolean> {
  const { rowCount } = await db.query('select 1 from users where email = $1', [email]);
  return (rowCount ?? 0) > 0;
}

export async function findActiveUser(db: Db, tenantId: string, userId: string): Promise<UserRow | null> {
  const { rows } = await db.query<RawUser>(`select ${USER_COLUMNS} from users where tenant_id = $1 and id = $2 and deactivated_at is null`, [tenantId, userId]);
  return rows[0] ? toUser(rows[0]) : null;
}

export async function listDirectory(db: Db, tenantId: string): Promise<DirectoryEntry[]> {
  const { rows } = await db.query<{ id: string; display_name: string; email: string; extension: string | null }>(
    `select id, display_name, email, extension from users
      where tenant_id = $1 and deactivated_at is null
      order by display_name, id`,
    [tenantId],
  );
  return rows.map((row) => ({ id: row.id, displayName: row.display_name, email: row.email, extension: row.extension }));
}

export function toUserView(user: UserRow): UserView {
  const { passwordHash: _omitted, ...view } = user;
  return view;
}

function toUser(row: RawUser): UserRow {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    passwordHash: row.password_hash,
  };
}

export async function listAllUsers(db: Db, tenantId: string): Promise<AdminUserView[]> {
  const { rows } = await db.query<RawUser & { deactivated_at: Date | null; created_at: Date }>(
    `select ${USER_COLUMNS}, deactivated_at, created_at from users where tenant_id = $1 order by display_name, id`,
    [tenantId],
  );
  return rows.map((row) => ({
    ...toUserView(toUser(row)),
    active: row.deactivated_at === null,
    createdAt: new Date(row.created_at).toISOString(),
  }));
}

export type RoleChange = { outcome: 'changed'; previous: Role } | { outcome: 'not_found' } | { outcome: 'last_admin' };

/** Changes a role within the tenant, refusing to leave the tenant without an active admin. */
export async function changeRole(db: Db, tenantId: string, userId: string, role: Role): Promise<RoleChange> {
  const { rows } = await db.query<{ role: Role }>('select role from users where tenant_id = $1 and id = $2 for update', [tenantId, userId]);
  const current = rows[0];
  if (!current) return { outcome: 'not_found' };
  if (current.role === 'admin' && role !== 'admin' && (await otherActiveAdmins(db, tenantId, userId)) === 0) {
    return { outcome: 'last_admin' };
  }
  await db.query('update users set role = $3 where tenant_id = $1 and id = $2', [tenantId, userId, role]);
  return { outcome: 'changed', previous: current.role };
}

export type Deactivation = { outcome: 'deactivated' | 'not_found' | 'last_admin' };

/** Deactivates a user of the tenant and revokes its sessions. */
export async function deactivateUser(db: Db, tenantId: string, userId: string): Promise<Deactivation> {
  const { rows } = await db.query<{ role: Role }>('select role from users where tenant_id = $1 and id = $2 and deactivated_at is null for update', [
    tenantId,
    userId,
  ]);
  const user = rows[0];
  if (!user) return { outcome: 'not_found' };
  if (user.role === 'admin' && (await otherActiveAdmins(db, tenantId, userId)) === 0) return { outcome: 'last_admin' };
  await db.query('update users set deactivated_at = now() where tenant_id = $1 and id = $2', [tenantId, userId]);
  await revokeAllRefreshTokens(db, userId);
  return { outcome: 'deactivated' };
}

export async function otherActiveAdmins(db: Db, tenantId: string, userId: string): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `select count(*) as count from users
      where tenant_id = $1 and id <> $2 and role = 'admin' and deactivated_at is null`,
    [tenantId, userId],
  );
  return Number(rows[0]?.count ?? 0);
}

/** Where the organisation's alerts go: its active admins' addresses. */
export async function adminEmails(db: Db, tenantId: string): Promise<string[]> {
  const { rows } = await db.query<{ email: string }>(
    `select email from users where tenant_id = $1 and role = 'admin' and deactivated_at is null and erased_at is null`,
    [tenantId],
  );
  return rows.map((row) => row.email);
}

export async function setPasswordHash(db: Db, tenantId: string, userId: string, passwordHash: string): Promise<void> {
  await db.query('update users set password_hash = $3 where tenant_id = $1 and id = $2', [tenantId, userId, passwordHash]);
}
