/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (through NEON_WS_PROXY if set). */
import { migrate } from './migrations.ts';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is not set (the Neon connection string, or a local Postgres URL with NEON_WS_PROXY)');
  process.exit(2);
}
const applied = await migrate({ databaseUrl, relayUrl: process.env.NEON_WS_PROXY });
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
