/**
 * A private Kamailio (Debian's package) running sip-edge/kamailio/kamailio.cfg on loopback: the SIP
 * edge's registrar and proxy in front of the gateway. The deployment values go into
 * kamailio-local.cfg and dispatcher.list in a temp directory, which is also Kamailio's working
 * directory (the config imports kamailio-local.cfg relative to it); infra-cdk writes the same two
 * files in production.
 *
 * Besides UDP and TCP on `port` (the phones' side), Kamailio always listens on `internalPort` (UDP):
 * the gateway's side, as 127.0.0.1:5060 is on a node. TLS and WebSocket listeners are opened on
 * request, and kamcmd reaches it at `ctlSocket`. With `databaseUrl`, registrations live in that
 * PostgreSQL database (usrloc db_mode 3, the edge's migration 0009_sip_location.sql), shared by
 * every Kamailio given the same URL and kept across restarts.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, Service, startInDir } from './processes.ts';

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
  /** SIP over TLS on `tlsPort`, with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
  /** SIP over WebSocket (plain ws) on `wsPort`. */
  ws?: true;
  /**
   * Registrations in this PostgreSQL database (`postgres://` or `postgresql://user:password@host:port/db`;
   * a query string is dropped) instead of in memory. Its `location` table comes from the edge's migrations.
   */
  databaseUrl?: string;
}

/**
 * A libpq URL in the form Kamailio's db_postgres parses: scheme `postgres` (the module is found by
 * it: db_<scheme>), no query string, no percent-escapes (taken literally), each part free of the
 * characters its parser splits on.
 */
export function kamailioDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error(`kamailio: databaseUrl is not a postgres URL: ${parsed.protocol}`);
  const parts = {
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    host: parsed.hostname,
    port: parsed.port || '5432',
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
  };
  for (const [name, value] of Object.entries(parts)) {
    if (!/^[A-Za-z0-9._~-]+$/.test(value)) throw new Error(`kamailio: the databaseUrl's ${name} is empty or has characters Kamailio's URL parser cannot carry`);
  }
  return `postgres://${parts.user}:${parts.password}@${parts.host}:${parts.port}/${parts.database}`;
}

export interface Kamailio {
  host: '127.0.0.1';
  /** UDP and TCP: where phones register and call. */
  port: number;
  /** UDP: where the gateway sends; what Kamailio relays to the gateway leaves from it. */
  internalPort: number;
  /** TLS, when `tls` was given. */
  tlsPort?: number;
  /** WebSocket (ws://host:wsPort/), when `ws` was given. */
  wsPort?: number;
  /** For `kamcmd -s`: `unix:/path/kamailio_ctl`. */
  ctlSocket: string;
  stop(): Promise<void>;
}

export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  if (!existsSync(KAMAILIO_BIN)) {
    throw new Error(`${KAMAILIO_BIN} not found: apt-get install kamailio kamailio-utils-modules kamailio-json-modules`);
  }
  // Values are pasted into the config by regular-expression substitution and into URLs and headers:
  // refuse anything that could break out of them.
  const safe = /^[A-Za-z0-9._~:/-]+$/;
  const checked = { realm: options.realm, gatewayHttp: options.gatewayHttp, localToken: options.localToken, ...options.tls };
  for (const [name, value] of Object.entries(checked)) {
    if (!safe.test(value)) throw new Error(`kamailio: ${name} has characters the config cannot carry: ${value}`);
  }
  // A port free for TCP may still be taken for UDP (media uses UDP ranges): a failed bind retries.
  for (let attempt = 1; ; attempt++) {
    try {
      const ports = { port: await freePort(), internalPort: await freePort(), tlsPort: await freePort(), wsPort: await freePort() };
      return await startOnce(options, ports);
    } catch (error) {
      if (attempt >= 3 || !/bind|Address already in use/i.test((error as Error).message)) throw error;
    }
  }
}

interface Ports {
  port: number;
  internalPort: number;
  tlsPort: number;
  wsPort: number;
}

async function startOnce(options: KamailioOptions, { port, internalPort, tlsPort, wsPort }: Ports): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-kamailio-'));
  const host = '127.0.0.1';
  const ctlSocket = `unix:${join(dir, 'kamailio_ctl')}`;
  const substitute = (name: string, value: string | number) => `#!substdef "!${name}!${value}!g"`;
  const tls = options.tls
    ? [
        '#!define WITH_TLS',
        substitute('CALLSTACK_SIP_TLS', `tls:${host}:${tlsPort}`),
        `#!define CALLSTACK_TLS_CERT "${options.tls.certFile}"`,
        `#!define CALLSTACK_TLS_KEY "${options.tls.keyFile}"`,
      ]
    : [];
  // A quoted #!define, as infra-cdk writes it: used bare (modparam value), never inside a string.
  const db = options.databaseUrl ? ['#!define WITH_DB', `#!define CALLSTACK_DB_URL "${kamailioDatabaseUrl(options.databaseUrl)}"`] : [];
  const ws = options.ws ? ['#!define WITH_WS', substitute('CALLSTACK_SIP_WS', `tcp:${host}:${wsPort}`), `#!define CALLSTACK_WS_PORT ${wsPort}`] : [];
  writeFileSync(
    join(dir, 'kamailio-local.cfg'),
    [
      substitute('CALLSTACK_SIP_UDP', `udp:${host}:${port}`),
      substitute('CALLSTACK_SIP_TCP', `tcp:${host}:${port}`),
      substitute('CALLSTACK_SIP_INTERNAL', `udp:${host}:${internalPort}`),
      ...tls,
      ...ws,
      ...db,
      substitute('CALLSTACK_CTL_SOCKET', ctlSocket),
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
  const stop = await startInDir(service, dir);
  return { host, port, internalPort, ...(options.tls ? { tlsPort } : {}), ...(options.ws ? { wsPort } : {}), ctlSocket, stop };
}
