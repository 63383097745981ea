import { Client, neon, NeonDbError } from '@neondatabase/serverless';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { DatabaseUnavailableError } from '../errors.ts';
import type { Db, QueryRows } from './db.ts';
import { useLocalRelay } from './localRelay.ts';

export type { Db };

/**
 * Runs `work` with statements sent one by one over Neon's HTTP path: one round trip each and no
 * connection, start-up or authentication per unit of work. Each statement commits on its own; work
 * that needs several statements to land together uses withTransaction.
 * Transport failures become DatabaseUnavailableError (503); query errors pass through.
 */
export async function withDb<T>(env: Env, work: (db: Db) => Promise<T>): Promise<T> {
  const { databaseUrl, neonWsProxy } = config(env);
  if (neonWsProxy) useLocalRelay(neonWsProxy);
  const sql = neon(databaseUrl, { fullResults: true });
  const db: Db = {
    async query<R>(text: string, params: unknown[] = []) {
      try {
        return (await sql.query(text, params)) as QueryRows<R>;
      } catch (error) {
        throw isConnectionFailure(error) ? new DatabaseUnavailableError(error) : error;
      }
    },
  };
  return work(db);
}

/**
 * Runs `work` inside one interactive transaction (statements that depend on earlier answers), on a
 * WebSocket connection opened for it and closed after: Workers may not share I/O objects between
 * requests, so a connection never outlives the unit of work.
 */
export async function withTransaction<T>(env: Env, work: (db: Db) => Promise<T>): Promise<T> {
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
    await client.query('begin');
    try {
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  } catch (error) {
    throw isConnectionFailure(error) ? new DatabaseUnavailableError(error) : error;
  } finally {
    client.end().catch(() => {});
  }
}

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // A Postgres error carries a SQLSTATE `code`; class 08 is "connection exception".
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code.startsWith('08') || code === '57P01';
  // Over HTTP, an error without a SQLSTATE is the request failing, not the query.
  if (error instanceof NeonDbError) return true;
  return /connection|socket|websocket|terminated/i.test(error.message);
}
