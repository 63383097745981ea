/**
 * The demo tenant: a few users with known passwords, for local runs and tests. Idempotent.
 */
import { createHash } from 'node:crypto';
import { hashPassword } from '../src/auth/password.ts';
import { DEFAULT_SIP_REALM } from '../src/config.ts';
import { withClient, type DatabaseTarget } from './migrations.ts';

export interface DemoUser {
  id: string;
  email: string;
  displayName: string;
  role: 'admin' | 'operator' | 'user';
  password: string;
}

export const DEMO_TENANT = { id: 'tenant-demo', slug: 'demo', name: 'Demo Company' };

export const DEMO_USERS: DemoUser[] = [
  { id: 'user-alice', email: 'alice@demo.callstack.test', displayName: 'Alice Adams', role: 'admin', password: 'alice-demo-pass' },
  { id: 'user-bob', email: 'bob@demo.callstack.test', displayName: 'Bob Brown', role: 'user', password: 'bob-demo-pass' },
  { id: 'user-carol', email: 'carol@demo.callstack.test', displayName: 'Carol Clark', role: 'operator', password: 'carol-demo-pass' },
  { id: 'user-dave', email: 'dave@demo.callstack.test', displayName: 'Dave Davis', role: 'user', password: 'dave-demo-pass' },
];

export interface TenantSeed {
  tenant: { id: string; slug: string; name: string };
  users: DemoUser[];
}

/** Known SIP credentials for demo phones: `user-alice` registers as `alice` / `alice-sip-pass`. */
export function demoSipCredentials(user: DemoUser): { username: string; password: string } {
  const username = user.id.replace(/^user-/, '');
  return { username, password: `${username}-sip-pass` };
}

/** Inserts tenants and users that do not exist yet; existing rows are left as they are. */
export async function seed(target: DatabaseTarget, seeds: TenantSeed[] = [{ tenant: DEMO_TENANT, users: DEMO_USERS }]): Promise<void> {
  await withClient(target, async (client) => {
    for (const { tenant, users } of seeds) {
      await client.query('insert into tenants (id, slug, name) values ($1, $2, $3) on conflict (id) do nothing', [tenant.id, tenant.slug, tenant.name]);
      for (const user of users) {
        const { rowCount } = await client.query('select 1 from users where id = $1', [user.id]);
        if (rowCount) continue;
        await client.query(`insert into users (id, tenant_id, email, display_name, role, password_hash) values ($1, $2, $3, $4, $5, $6)`, [
          user.id,
          tenant.id,
          user.email,
          user.displayName,
          user.role,
          await hashPassword(user.password),
        ]);
        const sip = demoSipCredentials(user);
        await client.query('insert into sip_credentials (user_id, tenant_id, username, realm, ha1) values ($1, $2, $3, $4, $5)', [
          user.id,
          tenant.id,
          sip.username,
          DEFAULT_SIP_REALM,
          createHash('md5').update(`${sip.username}:${DEFAULT_SIP_REALM}:${sip.password}`).digest('hex'),
        ]);
      }
    }
  });
}
