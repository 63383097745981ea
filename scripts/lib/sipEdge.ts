/**
 * The SIP edge as `npm start` and the tests run it on one machine: rtpengine, drachtio-server
 * (built once from the pinned sources, see sip-edge/scripts/buildDrachtio.mjs), Kamailio, and the
 * gateway (sip-edge/src/main.ts), each on loopback ports of its own, stopped in reverse order.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio } from './kamailio.ts';
import { freePort, Service, waitFor } from './processes.ts';
import { startRtpengine } from './rtpengine.ts';
import { ROOT } from './stack.ts';

export interface SipEdgeOptions {
  logsDir: string;
  edgeUrl: string;
  /** The nodes' shared secret (the edge's MEDIA_CONTROL_SECRET). */
  secret: string;
  realm: string;
  rtpPorts: { min: number; max: number };
  /** Kamailio's registrations in this PostgreSQL database (see startKamailio) instead of in memory. */
  databaseUrl?: string;
  /** SIP over TLS too, with this certificate (see startKamailio). */
  tls?: { certFile: string; keyFile: string };
  /** SIP over WebSocket too (plain ws, for WebRTC SIP clients on this machine). */
  ws?: true;
  /** Seconds between OPTIONS probes of the carrier trunks (the gateway's default when absent; 0: none). */
  trunkProbeSeconds?: number;
  /** The gateway's control API port, chosen before the edge starts (its SIP_GATEWAY_URL); a free one when absent. */
  controlPort?: number;
  /** Where the gateway keeps voicemail messages. */
  voicemailDir: string;
  /** rtpengine reports every DTMF event it sees to this UDP port on loopback (tests read them). */
  dtmfLogPort?: number;
}

export interface SipEdge {
  /** Where phones register and call: Kamailio, UDP and TCP. */
  host: string;
  port: number;
  realm: string;
  /** SIP over TLS and over WebSocket, when asked for. */
  tlsPort?: number;
  wsPort?: number;
  gatewayControlUrl: string;
  /** rtpengine's NG port on loopback (tests read its per-call counters). */
  rtpengineNgPort: number;
  /** Where rtpengine reports DTMF events, when asked to (`dtmfLogPort`). */
  dtmfLogPort?: number;
  stop(): Promise<void>;
}

/** Where the edge reaches the gateway on this machine (its SIP_GATEWAY_URL). */
export function gatewayControlUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** The drachtio-server binary, built when the cache has none (about 13 min once, then instant). */
export function buildDrachtio(): string {
  const result = spawnSync(process.execPath, [join(ROOT, 'sip-edge/scripts/buildDrachtio.mjs'), '--print-path'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error('drachtio-server build failed (see above)');
  return result.stdout.trim();
}

export async function startSipEdge(options: SipEdgeOptions): Promise<SipEdge> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    const drachtioBin = buildDrachtio();
    const rtpengine = await startRtpengine({
      logFile: join(options.logsDir, 'rtpengine.log'),
      portMin: options.rtpPorts.min,
      portMax: options.rtpPorts.max,
      ...(options.dtmfLogPort ? { dtmfLogPort: options.dtmfLogPort } : {}),
    });
    stops.push(() => rtpengine.stop());

    const drachtio = await startDrachtio(drachtioBin, join(options.logsDir, 'drachtio.log'));
    stops.push(() => drachtio.stop());

    const localToken = randomBytes(24).toString('hex');
    const controlPort = options.controlPort ?? (await freePort());
    const controlUrl = gatewayControlUrl(controlPort);
    const kamailio = await startKamailio({
      logFile: join(options.logsDir, 'kamailio.log'),
      realm: options.realm,
      gatewaySip: { host: '127.0.0.1', port: drachtio.sipPort },
      gatewayHttp: controlUrl,
      localToken,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.ws ? { ws: options.ws } : {}),
    });
    stops.push(() => kamailio.stop());

    const gateway = new Service({
      name: 'sip-gateway',
      command: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'sip-edge/src/main.ts')],
      cwd: ROOT,
      env: {
        ...process.env,
        SIP_GATEWAY_EDGE_URL: options.edgeUrl,
        SIP_GATEWAY_SECRET: options.secret,
        SIP_GATEWAY_LISTEN_PORT: String(controlPort),
        SIP_GATEWAY_LOCAL_TOKEN: localToken,
        SIP_GATEWAY_REALM: options.realm,
        // The internal listener, as on a node: Kamailio relays to phones from its public one.
        SIP_GATEWAY_PROXY: `sip:${kamailio.host}:${kamailio.internalPort}`,
        DRACHTIO_PORT: String(drachtio.adminPort),
        DRACHTIO_SECRET: drachtio.secret,
        RTPENGINE_PORT: String(rtpengine.ngPort),
        SIP_GATEWAY_VOICEMAIL_DIR: options.voicemailDir,
        ...(options.trunkProbeSeconds === undefined ? {} : { SIP_GATEWAY_TRUNK_PROBE_SECONDS: String(options.trunkProbeSeconds) }),
      },
      logFile: join(options.logsDir, 'sip-gateway.log'),
      readyPattern: /sip gateway ready/,
      readyTimeoutMs: 30_000,
    });
    await gateway.start();
    stops.push(() => gateway.stop());
    return {
      host: kamailio.host,
      port: kamailio.port,
      ...(kamailio.tlsPort ? { tlsPort: kamailio.tlsPort } : {}),
      ...(kamailio.wsPort ? { wsPort: kamailio.wsPort } : {}),
      realm: options.realm,
      gatewayControlUrl: controlUrl,
      rtpengineNgPort: rtpengine.ngPort,
      ...(options.dtmfLogPort ? { dtmfLogPort: options.dtmfLogPort } : {}),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** drachtio-server in the foreground on loopback: SIP on one port (UDP and TCP), its admin socket on another. */
async function startDrachtio(bin: string, logFile: string) {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-drachtio-'));
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const secret = randomBytes(16).toString('hex');
  const config = join(dir, 'drachtio.conf.xml');
  writeFileSync(
    config,
    `<drachtio>
  <admin port="${adminPort}" secret="${secret}">127.0.0.1</admin>
  <sip>
    <contacts><contact>sip:127.0.0.1:${sipPort};transport=udp,tcp</contact></contacts>
  </sip>
  <cdrs>false</cdrs>
  <logging><console/><sofia-loglevel>2</sofia-loglevel><loglevel>info</loglevel></logging>
</drachtio>
`,
    { mode: 0o600 },
  );
  const service = new Service({ name: 'drachtio', command: bin, args: ['-f', config, '--disable-nat-detection'], logFile });
  await service.start();
  await waitFor(() => canConnect(adminPort), { what: 'drachtio admin port', timeoutMs: 15_000 });
  return {
    sipPort,
    adminPort,
    secret,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
