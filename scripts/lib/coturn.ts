/**
 * A private coturn (Debian's package) with TURN REST credentials (use-auth-secret): on loopback for
 * the tests, and also on the machine's own IPv4 addresses for `npm start`, so a browser on another
 * machine of the LAN gets a relay. Loopback peers are allowed because a local browser's only path
 * is 127.0.0.1; a deployment denies private ranges instead (infra-cdk writes that config).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Service } from './processes.ts';

export interface Turn {
  port: number;
  secret: string;
  urls: string[];
  stop(): Promise<void>;
}

export interface CoturnOptions {
  /** Also listen and relay on this machine's non-loopback IPv4 addresses (`npm start`). */
  lan?: boolean;
}

export async function startCoturn(logFile: string, secret: string, options: CoturnOptions = {}): Promise<Turn> {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-turn-'));
  const port = await freePort();
  const relayBase = 20000 + Math.floor(Math.random() * 20000);
  const addresses = ['127.0.0.1', ...(options.lan ? lanAddresses() : [])];
  const config = join(dir, 'turnserver.conf');
  writeFileSync(
    config,
    [
      `listening-port=${port}`,
      ...addresses.flatMap((address) => [`listening-ip=${address}`, `relay-ip=${address}`]),
      `min-port=${relayBase}`,
      `max-port=${relayBase + 199}`,
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      'realm=callstack.test',
      'fingerprint',
      'no-tls',
      'no-dtls',
      'no-cli',
      'no-multicast-peers',
      'allow-loopback-peers',
      'log-file=stdout',
      'simple-log',
      `pidfile=${join(dir, 'turnserver.pid')}`,
      `userdb=${join(dir, 'turndb')}`,
    ].join('\n') + '\n',
  );
  const service = new Service({
    name: 'coturn',
    command: '/usr/bin/turnserver',
    args: ['-c', config],
    logFile,
    readyPattern: /Total (General|UDP|auth) servers|listener opened on/i,
    readyTimeoutMs: 15_000,
  });
  await service.start();
  return {
    port,
    secret,
    // STUN on the LAN addresses (a browser behind NAT learns its public side), then TURN, the
    // machine's LAN addresses first: a browser elsewhere reaches only those.
    urls: [
      ...addresses.slice(1).map((address) => `stun:${address}:${port}`),
      ...[...addresses].reverse().flatMap((address) => [`turn:${address}:${port}?transport=udp`, `turn:${address}:${port}?transport=tcp`]),
    ],
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry.address);
}
