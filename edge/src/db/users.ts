import type { DirectoryEntry, Role, UserView } from '@callstack/protocol';
import type { Db } from './client.ts';

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
  const { rows } = await db.query<RawUser>(
    `select ${USER_COLUMNS} from users where email = $1 and deactivated_at is null`,
    [email],
  );
  return rows[0] ? toUser(rows[0]) : null;
}

export async function findActiveUser(db: Db, tenantId: string, userId: string): Promise<UserRow | null> {
  const { rows } = await db.query<RawUser>(
    `select ${USER_COLUMNS} from users where tenant_id = $1 and id = $2 and deactivated_at is null`,
    [tenantId, userId],
  );
  return rows[0] ? toUser(rows[0]) : null;
}

export async function listDirectory(db: Db, tenantId: string): Promise<DirectoryEntry[]> {
  const { rows } = await db.query<{ id: string; display_name: string; email: string }>(
    `select id, display_name, email from users
      where tenant_id = $1 and deactivated_at is null
      order by display_name, id`,
    [tenantId],
  );
  return rows.map((row) => ({ id: row.id, displayName: row.display_name, email: row.email }));
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
