/**
 * What the benchmarks share: their own stack (PostgreSQL, relay, the edge under wrangler dev) in
 * `.tmp/<name>`, one tenant of N users with access tokens minted here (sign-in is not what is
 * measured), bounded-concurrency connects, and percentiles.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { withClient } from '../../edge/scripts/migrations.ts';
import { startPostgres } from '../../scripts/lib/postgres.ts';
import { ensureDir } from '../../scripts/lib/processes.ts';
import { buildWeb, prepareDatabase, ROOT, startEdge } from '../../scripts/lib/stack.ts';

export interface BenchStack {
  url: string;
  tenantId: string;
  userIds: string[];
  token(userId: string): Promise<string>;
}

/** Runs `body` against a fresh stack with `users` users, and stops everything afterwards. */
export async function withBenchStack(
  name: string,
  options: { users: number; vars: Record<string, string> },
  body: (stack: BenchStack, onStop: (stop: () => Promise<void>) => void) => Promise<void>,
): Promise<void> {
  const tmp = join(ROOT, '.tmp', name);
  rmSync(tmp, { recursive: true, force: true });
  const logs = ensureDir(join(tmp, 'logs'));
  const stops: (() => Promise<void>)[] = [];
  try {
    buildWeb();
    const postgres = await startPostgres(join(logs, 'postgres.log'));
    stops.push(() => postgres.stop());
    const relay = await prepareDatabase(postgres);
    stops.push(() => relay.close());
    const jwtSecret = randomBytes(32).toString('base64url');
    const edge = await startEdge({
      stateDir: ensureDir(join(tmp, 'edge')),
      logFile: join(logs, 'edge.log'),
      vars: { DATABASE_URL: postgres.url, NEON_WS_PROXY: relay.url, JWT_SECRET: jwtSecret, ...options.vars },
    });
    stops.push(() => edge.stop());

    const tenantId = 'bench-tenant';
    const userIds = Array.from({ length: options.users }, (_, i) => `bench-user-${i}`);
    await withClient({ databaseUrl: postgres.url, relayUrl: relay.url }, async (client) => {
      await client.query(`insert into tenants (id, slug, name) values ($1, 'bench', 'Bench')`, [tenantId]);
      // Users get no usable password: tokens are minted below.
      await client.query(
        `insert into users (id, tenant_id, email, display_name, role, password_hash)
         select id, $2, id || '@bench.test', id, 'user', 'none' from unnest($1::text[]) as id`,
        [userIds, tenantId],
      );
    });
    const key = new TextEncoder().encode(jwtSecret);
    const token = (userId: string) =>
      new SignJWT({ tid: tenantId, role: 'user', name: userId })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .setSubject(userId)
        .setIssuer('callstack')
        .setAudience('callstack-api')
        .setExpirationTime('1h')
        .sign(key);
    await body({ url: edge.url, tenantId, userIds, token }, (stop) => stops.push(stop));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}

/** Opens `count` connections, `concurrency` at a time; returns them and the rate achieved. */
export async function connectAll<T>(
  count: number,
  concurrency: number,
  open: (index: number) => Promise<T>,
): Promise<{ clients: T[]; seconds: number; perSecond: number }> {
  const clients: T[] = new Array(count);
  const start = performance.now();
  let nextIndex = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nextIndex < count) {
        const index = nextIndex++;
        clients[index] = await open(index);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { clients, seconds, perSecond: count / seconds };
}

/** The p-th percentile of ascending-sorted values. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
