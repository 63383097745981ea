/**
 * The zero-install database for `npm start`: PGlite (Postgres compiled to WASM) persisted in a
 * folder, speaking the Postgres wire protocol on a local TCP port. Tests use a real PostgreSQL.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startEmbeddedDatabase(dataDir: string, port: number, host = '127.0.0.1'): Promise<EmbeddedDatabase> {
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, host, port, maxConnections: 100 });
  await server.start();
  return {
    // PGlite accepts any user and password.
    url: `postgres://postgres:postgres@${host}:${port}/postgres`,
    host,
    port,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
