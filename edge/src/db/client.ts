import { Client } from '@neondatabase/serverless';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { DatabaseUnavailableError } from '../errors.ts';
import type { Db } from './db.ts';
import { useLocalRelay } from './localRelay.ts';

export type { Db };

/**
 * Runs `work` on one connection, opened for it and closed after. Workers may not share I/O
 * objects between requests, so a connection never outlives the unit of work.
 * Connection failures become DatabaseUnavailableError (503); query errors pass through.
 */
export async function withDb<T>(env: Env, work: (db: Db) => Promise<T>): Promise<T> {
  const { databaseUrl, neonWsProxy } = config(env);
  if (neonWsProxy) useLocalRelay(neonWsProxy);
  const client = new Client({ connectionString: databaseUrl });
  // An unreachable relay surfaces as an 'error' event as well as a rejected connect().
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnavailableError(error);
  }
  try {
    return await work(client);
  } catch (error) {
    throw isConnectionFailure(error) ? new DatabaseUnavailableError(error) : error;
  } finally {
    client.end().catch(() => {});
  }
}

/** Runs `work` inside one transaction. */
export function withTransaction<T>(env: Env, work: (db: Db) => Promise<T>): Promise<T> {
  return withDb(env, async (db) => {
    await db.query('begin');
    try {
      const result = await work(db);
      await db.query('commit');
      return result;
    } catch (error) {
      await db.query('rollback').catch(() => {});
      throw error;
    }
  });
}

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // A Postgres error carries a SQLSTATE `code`; class 08 is "connection exception".
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code.startsWith('08') || code === '57P01';
  return /connection|socket|websocket|terminated/i.test(error.message);
}
