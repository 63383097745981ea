/**
 * A private PostgreSQL cluster (Debian's packages) for tests: its own data folder, port and
 * socket folder, SCRAM password auth on 127.0.0.1. Root cannot run Postgres, so as root it runs
 * as the `postgres` system user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Service } from './processes.ts';

export interface PostgresCluster {
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'callstack';

export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'postgres')));
}

export async function startPostgres(logFile: string): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const asRoot = process.getuid?.() === 0;
  // Outside the checkout: the postgres user must be able to reach it.
  const dir = mkdtempSync(join(tmpdir(), 'callstack-pg-'));
  const dataDir = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, password);
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    chownSync(pwFile, uid, gid);
  }
  chmodSync(dir, 0o700);
  const run = (command: string, args: string[]) => (asRoot ? (['runuser', ['-u', 'postgres', '--', command, ...args]] as const) : ([command, args] as const));

  const [initCmd, initArgs] = run(join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    USER,
    '--pwfile',
    pwFile,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  execFileSync(initCmd, [...initArgs], { stdio: 'pipe' });

  const port = await freePort();
  const [pgCmd, pgArgs] = run(join(bin, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=300',
  ]);
  const service = new Service({
    name: 'postgres',
    command: pgCmd,
    args: [...pgArgs],
    logFile,
    readyPattern: /ready to accept connections/,
    readyTimeoutMs: 30_000,
  });
  await service.start();
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`,
    host: '127.0.0.1',
    port,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}
