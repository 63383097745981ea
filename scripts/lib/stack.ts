/**
 * The local platform, as `npm start`, the tests and the benchmarks run it: a database (PGlite
 * or a real PostgreSQL), the Neon relay in front of it, migrations, and the edge under
 * `wrangler dev --local` serving the built web app.
 */
import { parseConfig } from '../../edge/src/config.ts';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNeonRelay, type Relay } from '../../edge/dev/neonRelay.ts';
import { migrate } from '../../edge/scripts/migrations.ts';
import { ensureDir, freePort, Service, waitFor } from './processes.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** wrangler must not phone home: the machines it runs on here reach no Cloudflare service. */
export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
} as const;

export interface DatabaseEndpoint {
  url: string;
  host: string;
  port: number;
}

export interface EdgeOptions {
  /** Folder for wrangler's persisted state (DO storage), its config/home, and logs. */
  stateDir: string;
  logFile: string;
  port?: number;
  vars: Record<string, string>;
}

export interface Edge {
  url: string;
  port: number;
  service: Service;
  stop(): Promise<void>;
}

/** Starts the relay for `db` and applies migrations through it. */
export async function prepareDatabase(db: DatabaseEndpoint): Promise<Relay> {
  const relay = await startNeonRelay({ port: 0, allow: [`${db.host}:${db.port}`] });
  await migrate({ databaseUrl: db.url, relayUrl: relay.url });
  return relay;
}

export function buildWeb(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'web/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stdout}${result.stderr}`);
}

/**
 * Runs the edge with `wrangler dev --local`. wrangler opens a few extra ports of its own, so a
 * clash on a chosen port is retried on another.
 */
export async function startEdge(options: EdgeOptions, attempts = 3): Promise<Edge> {
  // The edge's own schema: a bad variable stops here with every problem named, not at the first request.
  parseConfig(options.vars);
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port && attempt === 0 ? options.port : await freePort();
    try {
      return await startEdgeOnce(options, port);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startEdgeOnce(options: EdgeOptions, port: number): Promise<Edge> {
  const home = ensureDir(join(options.stateDir, 'home'));
  const envFile = join(options.stateDir, 'edge.env');
  writeFileSync(
    envFile,
    Object.entries(options.vars)
      // Single quotes keep a value as it is (JSON such as PSTN_TRUNKS); dotenv does not unescape \" in double ones.
      .map(([key, value]) => `${key}=${/['\n]/.test(value) ? JSON.stringify(value) : `'${value}'`}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  const wrangler = join(ROOT, 'node_modules/.bin/wrangler');
  const service = new Service({
    name: 'edge',
    command: wrangler,
    args: [
      'dev',
      '--local',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      join(options.stateDir, 'wrangler'),
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
      '--config',
      join(ROOT, 'wrangler.toml'),
    ],
    cwd: ROOT,
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      ...WRANGLER_OFFLINE_ENV,
      CI: 'true',
      FORCE_COLOR: '0',
      NO_COLOR: '1',
    },
    logFile: options.logFile,
    readyPattern: /Ready on http/,
    readyTimeoutMs: 60_000,
  });
  await service.start();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${url}/api/health`)).ok, { what: 'edge health', timeoutMs: 30_000 });
  } catch (error) {
    await service.stop();
    throw error;
  }
  return { url, port, service, stop: () => service.stop() };
}
