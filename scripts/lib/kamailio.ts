/**
 * A private Kamailio (Debian's package) running sip-edge/kamailio/kamailio.cfg on loopback: the SIP
 * edge's registrar and proxy in front of the gateway. The deployment values go into
 * kamailio-local.cfg and dispatcher.list in a temp directory, which is also Kamailio's working
 * directory (the config imports kamailio-local.cfg relative to it); infra-cdk writes the same two
 * files in production.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, Service } from './processes.ts';

export const KAMAILIO_BIN = '/usr/sbin/kamailio';
const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '../../sip-edge/kamailio/kamailio.cfg');

export interface KamailioOptions {
  logFile: string;
  /** Digest realm. */
  realm: string;
  /** The gateway's SIP socket (UDP): requests from it are trusted, calls from phones go to it. */
  gatewaySip: { host: string; port: number };
  /** Base URL of the gateway's local HTTP API, e.g. `http://127.0.0.1:8090`. */
  gatewayHttp: string;
  /** Sent in `X-CallStack-Local-Token` on every HTTP call to the gateway. */
  localToken: string;
  /** How long a flooding source, or one with too many failed digests, is dropped (default 300). */
  banSeconds?: number;
  /** Requests per source per 2 s before it counts as a flood (pike; default 30). */
  pikeRequests?: number;
  /** Failed digests per source within 60 s before it is banned (default 5). */
  authFailures?: number;
}

export interface Kamailio {
  host: '127.0.0.1';
  /** UDP and TCP. */
  port: number;
  stop(): Promise<void>;
}

export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  if (!existsSync(KAMAILIO_BIN)) {
    throw new Error(`${KAMAILIO_BIN} not found: apt-get install kamailio kamailio-utils-modules kamailio-json-modules`);
  }
  // Values are pasted into the config by regular-expression substitution and into URLs and headers:
  // refuse anything that could break out of them.
  const safe = /^[A-Za-z0-9._~:/-]+$/;
  for (const [name, value] of Object.entries({ realm: options.realm, gatewayHttp: options.gatewayHttp, localToken: options.localToken })) {
    if (!safe.test(value)) throw new Error(`kamailio: ${name} has characters the config cannot carry: ${value}`);
  }
  // A port free for TCP may still be taken for UDP (media uses UDP ranges): a failed bind retries.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (error) {
      if (attempt >= 3 || !/bind|Address already in use/i.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(options: KamailioOptions, port: number): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-kamailio-'));
  const host = '127.0.0.1';
  const substitute = (name: string, value: string | number) => `#!substdef "!${name}!${value}!g"`;
  writeFileSync(
    join(dir, 'kamailio-local.cfg'),
    [
      substitute('CALLSTACK_SIP_UDP', `udp:${host}:${port}`),
      substitute('CALLSTACK_SIP_TCP', `tcp:${host}:${port}`),
      substitute('CALLSTACK_REALM', options.realm),
      substitute('CALLSTACK_DISPATCHER_LIST', join(dir, 'dispatcher.list')),
      substitute('CALLSTACK_GATEWAY_HTTP', options.gatewayHttp.replace(/\/+$/, '')),
      substitute('CALLSTACK_LOCAL_TOKEN', options.localToken),
      substitute('CALLSTACK_BAN_SECONDS', options.banSeconds ?? 300),
      substitute('CALLSTACK_PIKE_REQS', options.pikeRequests ?? 30),
      substitute('CALLSTACK_AUTH_FAILS', options.authFailures ?? 5),
    ].join('\n') + '\n',
    { mode: 0o600 },
  );
  writeFileSync(join(dir, 'dispatcher.list'), `1 sip:${options.gatewaySip.host}:${options.gatewaySip.port}\n`);
  const service = new Service({
    name: 'kamailio',
    command: KAMAILIO_BIN,
    args: ['-f', CONFIG, '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-m', '64', '-M', '8'],
    cwd: dir,
    logFile: options.logFile,
    // Logged by the config once the first SIP worker runs; the sockets are bound before.
    readyPattern: /CallStack SIP edge ready/,
    readyTimeoutMs: 15_000,
  });
  const stop = async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await service.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, port, stop };
}
