/**
 * Personal address books. Every statement is scoped by tenant and owner, so one user's contact
 * ids mean nothing to anybody else (404).
 */
import type { ContactView } from '@callstack/protocol';
import type { Db } from './client.ts';

interface Row {
  id: string;
  user_id: string | null;
  phone_e164: string | null;
  display_name: string;
  email: string | null;
  favorite: boolean;
  created_at: Date;
}

const SELECT = `select c.id, c.user_id, c.phone_e164, c.display_name, u.email, c.favorite, c.created_at
                  from contacts c left join users u on u.id = c.user_id`;

export interface ContactQuery {
  /** Matches name, email or number, case-insensitively. */
  search?: string;
  favoritesOnly?: boolean;
}

export async function listContacts(db: Db, tenantId: string, ownerId: string, query: ContactQuery): Promise<ContactView[]> {
  const pattern = query.search ? `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const { rows } = await db.query<Row>(
    `${SELECT}
      where c.tenant_id = $1 and c.owner_id = $2
        and ($3::text is null or c.display_name ilike $3 or u.email ilike $3 or c.phone_e164 like $3)
        and (not $4 or c.favorite)
      order by c.favorite desc, lower(c.display_name), c.id`,
    [tenantId, ownerId, pattern, query.favoritesOnly ?? false],
  );
  return rows.map(toView);
}

export type NewContact =
  | { kind: 'user'; userId: string; displayName?: string | undefined; favorite?: boolean | undefined }
  | { kind: 'external'; phone: string; displayName: string; favorite?: boolean | undefined };

export type ContactCreation = { outcome: 'created'; contact: ContactView } | { outcome: 'no_such_user' | 'duplicate' };

export async function createContact(db: Db, tenantId: string, ownerId: string, contact: NewContact): Promise<ContactCreation> {
  let displayName: string;
  if (contact.kind === 'user') {
    // A colleague must be an active user of the same tenant; anyone else is simply not found.
    const { rows } = await db.query<{ display_name: string }>('select display_name from users where tenant_id = $1 and id = $2 and deactivated_at is null', [
      tenantId,
      contact.userId,
    ]);
    if (!rows[0]) return { outcome: 'no_such_user' };
    displayName = contact.displayName ?? rows[0].display_name;
  } else {
    displayName = contact.displayName;
  }
  const id = crypto.randomUUID();
  const { rowCount } = await db.query(
    `insert into contacts (id, tenant_id, owner_id, user_id, phone_e164, display_name, favorite)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing`,
    [
      id,
      tenantId,
      ownerId,
      contact.kind === 'user' ? contact.userId : null,
      contact.kind === 'external' ? contact.phone : null,
      displayName,
      contact.favorite ?? false,
    ],
  );
  if (!rowCount) return { outcome: 'duplicate' };
  return { outcome: 'created', contact: (await findContact(db, tenantId, ownerId, id))! };
}

export interface ContactChange {
  displayName?: string | undefined;
  phone?: string | undefined;
  favorite?: boolean | undefined;
}

export type ContactUpdate = { outcome: 'updated'; contact: ContactView } | { outcome: 'not_found' | 'not_external' | 'duplicate' };

export async function updateContact(db: Db, tenantId: string, ownerId: string, id: string, change: ContactChange): Promise<ContactUpdate> {
  const current = await findContact(db, tenantId, ownerId, id);
  if (!current) return { outcome: 'not_found' };
  if (change.phone !== undefined && current.kind !== 'external') return { outcome: 'not_external' };
  const { rowCount } = await db.query(
    `update contacts set display_name = coalesce($4, display_name), phone_e164 = coalesce($5, phone_e164), favorite = coalesce($6, favorite)
      where tenant_id = $1 and owner_id = $2 and id = $3
        and not exists (select 1 from contacts o where o.owner_id = $2 and o.id <> $3 and o.phone_e164 = $5)`,
    [tenantId, ownerId, id, change.displayName ?? null, change.phone ?? null, change.favorite ?? null],
  );
  if (!rowCount) return { outcome: 'duplicate' };
  return { outcome: 'updated', contact: (await findContact(db, tenantId, ownerId, id))! };
}

export async function deleteContact(db: Db, tenantId: string, ownerId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from contacts where tenant_id = $1 and owner_id = $2 and id = $3', [tenantId, ownerId, id]);
  return Boolean(rowCount);
}

async function findContact(db: Db, tenantId: string, ownerId: string, id: string): Promise<ContactView | null> {
  const { rows } = await db.query<Row>(`${SELECT} where c.tenant_id = $1 and c.owner_id = $2 and c.id = $3`, [tenantId, ownerId, id]);
  return rows[0] ? toView(rows[0]) : null;
}

function toView(row: Row): ContactView {
  return {
    id: row.id,
    kind: row.user_id ? 'user' : 'external',
    userId: row.user_id,
    phone: row.phone_e164,
    displayName: row.display_name,
    email: row.email,
    favorite: row.favorite,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
