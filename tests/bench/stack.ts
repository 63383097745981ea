/**
 * What the benchmarks share: their own stack (PostgreSQL, relay, the edge run directly by workerd,
 * see directEdge.ts) in `.tmp/<name>`, one tenant of N users with access tokens minted here
 * (sign-in is not what is measured), bounded-concurrency connects, percentiles, and what the edge
 * used per operation: CPU, Durable Object invocations, Postgres round trips.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { RelayCounters } from '../../edge/dev/neonRelay.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { hashPassword } from '../../edge/src/auth/password.ts';
import { startPostgres } from '../../scripts/lib/postgres.ts';
import { ensureDir } from '../../scripts/lib/processes.ts';
import { buildWeb, prepareDatabase, ROOT } from '../../scripts/lib/stack.ts';
import { startDirectEdge, type DirectEdge } from './directEdge.ts';

export interface BenchStack {
  url: string;
  tenantId: string;
  userIds: string[];
  /** A user who signs in with a password (the others get minted tokens). */
  signInUser: { email: string; password: string };
  edge: DirectEdge;
  token(userId: string): Promise<string>;
  /** What the edge and the database have done so far: subtract two of them with `usageBetween`. */
  usage(): Promise<Usage>;
}

export interface Usage {
  edgeCpuMs: number;
  /**
   * The kernel's share of it: on loopback, a socket write also runs the receiver's TCP path in the
   * writer's time, so this includes work that is not the edge's in production.
   */
  edgeSystemMs: number;
  /** This process's: the load generator's clients share the machine's two cores with the edge. */
  clientCpuMs: number;
  invocations: Record<string, number>;
  db: RelayCounters;
}

/** Runs `body` against a fresh stack with `users` users, and stops everything afterwards. */
export async function withBenchStack(
  name: string,
  options: { users: number; vars: Record<string, string>; inspector?: boolean },
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
    const edge = await startDirectEdge({
      stateDir: ensureDir(join(tmp, 'edge')),
      logFile: join(logs, 'edge.log'),
      vars: { DATABASE_URL: postgres.url, NEON_WS_PROXY: relay.url, JWT_SECRET: jwtSecret, ...options.vars },
      inspector: options.inspector,
    });
    console.log(`edge: workerd directly (Miniflare, the wrangler deploy bundle), no wrangler dev proxy; CPU from /proc/${edge.pid}/stat`);
    stops.push(() => edge.stop());

    const tenantId = 'bench-tenant';
    const signInUser = { email: 'signer@bench.test', password: randomBytes(12).toString('base64url') };
    const userIds = Array.from({ length: options.users }, (_, i) => `bench-user-${i}`);
    await withClient({ databaseUrl: postgres.url, relayUrl: relay.url }, async (client) => {
      await client.query(`insert into tenants (id, slug, name) values ($1, 'bench', 'Bench')`, [tenantId]);
      // Users get no usable password: tokens are minted below.
      await client.query(
        `insert into users (id, tenant_id, email, display_name, role, password_hash)
         select id, $2, id || '@bench.test', id, 'user', 'none' from unnest($1::text[]) as id`,
        [userIds, tenantId],
      );
      await client.query(`insert into users (id, tenant_id, email, display_name, role, password_hash) values ('bench-signer', $1, $2, 'Signer', 'user', $3)`, [
        tenantId,
        signInUser.email,
        await hashPassword(signInUser.password),
      ]);
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
    const usage = async (): Promise<Usage> => ({
      edgeCpuMs: (edge.cpuSeconds().user + edge.cpuSeconds().system) * 1000,
      edgeSystemMs: edge.cpuSeconds().system * 1000,
      clientCpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      invocations: await edge.invocations(),
      db: relay.counters(),
    });
    await body({ url: edge.url, tenantId, userIds, signInUser, edge, token, usage }, (stop) => stops.push(stop));
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

/** What happened between two readings of `usage()`. */
export function usageBetween(before: Usage, after: Usage): Usage {
  const invocations: Record<string, number> = {};
  for (const [key, count] of Object.entries(after.invocations)) {
    const delta = count - (before.invocations[key] ?? 0);
    if (delta > 0) invocations[key] = delta;
  }
  const db = { ...after.db };
  for (const key of Object.keys(db) as (keyof RelayCounters)[]) db[key] -= before.db[key];
  return {
    edgeCpuMs: after.edgeCpuMs - before.edgeCpuMs,
    edgeSystemMs: after.edgeSystemMs - before.edgeSystemMs,
    clientCpuMs: after.clientCpuMs - before.clientCpuMs,
    invocations,
    db,
  };
}

/** Prints `usage` divided by `operations`, one line per kind. */
export function printPerOperation(operation: string, operations: number, usage: Usage): { cpuMs: number; invocations: number; dbRoundTrips: number } {
  const per = (value: number) => (value / operations).toFixed(2);
  const invocations = Object.values(usage.invocations).reduce((sum, count) => sum + count, 0);
  const dbRoundTrips = usage.db.httpRequests + usage.db.wsMessages;
  console.log(`  per ${operation} (${operations}):`);
  console.log(`    edge CPU ms        ${per(usage.edgeCpuMs)}   (workerd user+system from /proc, of which system ${per(usage.edgeSystemMs)})`);
  console.log(`    client CPU ms      ${per(usage.clientCpuMs)}   (the load generator, for comparison)`);
  console.log(
    `    edge invocations   ${per(invocations)}   (${Object.entries(usage.invocations)
      .sort(([, a], [, b]) => b - a)
      .map(([key, count]) => `${key} ${per(count)}`)
      .join(', ')})`,
  );
  console.log(
    `    Postgres           ${per(dbRoundTrips)} round trips   (HTTP ${per(usage.db.httpRequests)} carrying ${per(usage.db.httpStatements)} statements; WebSocket ${per(usage.db.wsConnections)} connections, ${per(usage.db.wsMessages)} messages)`,
  );
  return { cpuMs: usage.edgeCpuMs / operations, invocations: invocations / operations, dbRoundTrips: dbRoundTrips / operations };
}
