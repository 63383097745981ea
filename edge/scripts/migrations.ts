/**
 * Applies `edge/migrations/*.sql` in name order, each in its own transaction, recording what ran
 * in `schema_migrations`. Runs through the same Neon driver as the Worker (WebSocket), so it works
 * against Neon and, locally, through the relay.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, neonConfig } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import { useLocalRelay } from '../src/db/localRelay.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface DatabaseTarget {
  databaseUrl: string;
  /** ws:// URL of a local relay; unset for Neon. */
  relayUrl?: string;
}

/** Configures the Neon driver for Node (and for a local relay when given). */
export function configureNeonForNode(relayUrl?: string): void {
  neonConfig.webSocketConstructor = WebSocket;
  if (relayUrl) useLocalRelay(relayUrl);
}

export async function withClient<T>(target: DatabaseTarget, work: (client: Client) => Promise<T>): Promise<T> {
  configureNeonForNode(target.relayUrl);
  const client = new Client({ connectionString: target.databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Returns the names of the migrations it applied. */
export async function migrate(target: DatabaseTarget, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return withClient(target, async (client) => {
    await client.query('create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())');
    const { rows } = await client.query<{ name: string }>('select name from schema_migrations');
    const done = new Set(rows.map((row) => row.name));
    const applied: string[] = [];
    for (const name of files.filter((file) => !done.has(file))) {
      const sql = await readFile(join(dir, name), 'utf8');
      await client.query('begin');
      try {
        await client.query(sql);
        await client.query('insert into schema_migrations (name) values ($1)', [name]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw new Error(`migration ${name} failed: ${(error as Error).message}`);
      }
      applied.push(name);
    }
    return applied;
  });
}
