/**
 * A private coturn (Debian's package) with TURN REST credentials (use-auth-secret), on loopback.
 * Loopback peers are allowed because here the browsers' only path is 127.0.0.1; a deployment
 * denies private ranges instead (infra-cdk writes that config).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Service } from './processes.ts';

export interface Turn {
  port: number;
  secret: string;
  urls: string[];
  stop(): Promise<void>;
}

export async function startCoturn(logFile: string, secret: string): Promise<Turn> {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-turn-'));
  const port = await freePort();
  const relayBase = 20000 + Math.floor(Math.random() * 20000);
  const config = join(dir, 'turnserver.conf');
  writeFileSync(
    config,
    [
      `listening-port=${port}`,
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
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
    urls: [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`],
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
