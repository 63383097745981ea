/** Ring groups (migration 0013), each tenant's own: every query is scoped by tenant. */
import type { CreateRingGroupRequest, RingGroupView, UpdateRingGroupRequest } from '@callstack/protocol';
import type { Db } from './client.ts';

interface Row {
  id: string;
  name: string;
  strategy: RingGroupView['strategy'];
  member_timeout_seconds: number;
  members: string[];
}

const COLUMNS = 'id, name, strategy, member_timeout_seconds, members';

function toView(row: Row): RingGroupView {
  return { id: row.id, name: row.name, strategy: row.strategy, memberTimeoutSeconds: row.member_timeout_seconds, members: row.members };
}

export async function listRingGroups(db: Db, tenantId: string): Promise<RingGroupView[]> {
  const { rows } = await db.query<Row>(`select ${COLUMNS} from ring_groups where tenant_id = $1 order by name, id`, [tenantId]);
  return rows.map(toView);
}

export async function findRingGroup(db: Db, tenantId: string, id: string): Promise<RingGroupView | null> {
  const { rows } = await db.query<Row>(`select ${COLUMNS} from ring_groups where tenant_id = $1 and id = $2`, [tenantId, id]);
  return rows[0] ? toView(rows[0]) : null;
}

export async function createRingGroup(db: Db, tenantId: string, group: CreateRingGroupRequest): Promise<RingGroupView> {
  const { rows } = await db.query<Row>(
    `insert into ring_groups (id, tenant_id, name, strategy, member_timeout_seconds, members) values ($1, $2, $3, $4, $5, $6) returning ${COLUMNS}`,
    [crypto.randomUUID(), tenantId, group.name, group.strategy, group.memberTimeoutSeconds, group.members],
  );
  return toView(rows[0]!);
}

export async function updateRingGroup(db: Db, tenantId: string, id: string, change: UpdateRingGroupRequest): Promise<RingGroupView | null> {
  const { rows } = await db.query<Row>(
    `update ring_groups set name = coalesce($3, name), strategy = coalesce($4, strategy),
            member_timeout_seconds = coalesce($5, member_timeout_seconds), members = coalesce($6, members)
      where tenant_id = $1 and id = $2 returning ${COLUMNS}`,
    [tenantId, id, change.name ?? null, change.strategy ?? null, change.memberTimeoutSeconds ?? null, change.members ?? null],
  );
  return rows[0] ? toView(rows[0]) : null;
}

/** 'in_use' while a number rings the group. */
export async function deleteRingGroup(db: Db, tenantId: string, id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
  const { rows } = await db.query<{ number: string }>('select number from phone_numbers where tenant_id = $1 and route_group_id = $2 limit 1', [tenantId, id]);
  if (rows[0]) return 'in_use';
  const { rowCount } = await db.query('delete from ring_groups where tenant_id = $1 and id = $2', [tenantId, id]);
  return (rowCount ?? 0) > 0 ? 'deleted' : 'not_found';
}

/** Which of `userIds` are the tenant's active users. */
export async function activeUserIds(db: Db, tenantId: string, userIds: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    'select id from users where tenant_id = $1 and id = any($2::text[]) and deactivated_at is null and erased_at is null',
    [tenantId, userIds],
  );
  return new Set(rows.map((row) => row.id));
}
