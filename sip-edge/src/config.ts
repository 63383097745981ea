/**
 * The gateway's one configuration, from the environment, validated once at start (every problem
 * named). Ports and hosts default to a local run beside Kamailio, rtpengine and drachtio-server.
 */
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import type { VoicemailSettings } from './Voicemail.ts';

/** Shipped with the project: a spoken greeting and a tone, 8 kHz G.711 (rendered once, not synthesised at run time). */
const DEFAULT_GREETING = fileURLToPath(new URL('../assets/voicemail-greeting.wav', import.meta.url));

const Port = v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(65535));
const Secret = v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'));
const Url = v.pipe(v.string(), v.url());

const Schema = v.object({
  SIP_GATEWAY_NODE_ID: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,128}$/)), 'local-sip-1'),
  /** The edge's base URL, and the nodes' shared secret it checks our signatures with. */
  SIP_GATEWAY_EDGE_URL: Url,
  SIP_GATEWAY_SECRET: Secret,
  /** The control API (the edge's deliveries, Kamailio's HA1 and registration calls). */
  SIP_GATEWAY_LISTEN_HOST: v.optional(v.string(), '127.0.0.1'),
  SIP_GATEWAY_LISTEN_PORT: Port,
  /** Where the edge reaches the control API; default http://<listen host>:<listen port>. */
  SIP_GATEWAY_CONTROL_URL: v.optional(Url),
  /** What Kamailio sends in `X-CallStack-Local-Token`. */
  SIP_GATEWAY_LOCAL_TOKEN: Secret,
  /** The SIP domain phones register in (the edge's SIP_REALM). */
  SIP_GATEWAY_REALM: v.pipe(v.string(), v.minLength(1)),
  /** Kamailio, through which calls to phones go (it knows where they registered). */
  SIP_GATEWAY_PROXY: v.pipe(v.string(), v.regex(/^sip:/)),
  DRACHTIO_HOST: v.optional(v.string(), '127.0.0.1'),
  DRACHTIO_PORT: Port,
  DRACHTIO_SECRET: v.pipe(v.string(), v.minLength(1)),
  RTPENGINE_HOST: v.optional(v.string(), '127.0.0.1'),
  RTPENGINE_PORT: Port,
  /** Seconds between OPTIONS probes of each carrier trunk; 0: no probes. */
  SIP_GATEWAY_TRUNK_PROBE_SECONDS: v.optional(v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.maxValue(3600)), '30'),
  /** Where voicemail messages are kept (the node's disk; the edge streams them from here). */
  SIP_GATEWAY_VOICEMAIL_DIR: v.optional(v.pipe(v.string(), v.regex(/^\//, 'must be an absolute path')), '/var/lib/callstack/voicemail'),
  /** The voicemail greeting: any audio file rtpengine (beside the gateway) can read. */
  SIP_GATEWAY_VOICEMAIL_GREETING: v.optional(v.pipe(v.string(), v.regex(/^\//, 'must be an absolute path')), DEFAULT_GREETING),
  /** The address voicemail recorders listen on for rtpengine's media, and their ports (`min-max`). */
  SIP_GATEWAY_MEDIA_IP: v.optional(v.pipe(v.string(), v.ipv4()), '127.0.0.1'),
  SIP_GATEWAY_RECORDER_PORTS: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{4,5}-\d{4,5}$/, 'must be min-max'),
      v.transform((range) => range.split('-').map(Number) as [number, number]),
      v.check(([min, max]) => min >= 1024 && max <= 65535 && max - min >= 8, 'must span at least 8 ports within 1024-65535'),
    ),
    '44000-44999',
  ),
  LOG_LEVEL: v.optional(v.picklist(['debug', 'info', 'warn', 'error']), 'info'),
});

export interface GatewayConfig {
  nodeId: string;
  edgeUrl: string;
  secret: string;
  listen: { host: string; port: number };
  controlUrl: string;
  localToken: string;
  realm: string;
  proxy: string;
  drachtio: { host: string; port: number; secret: string };
  rtpengine: { host: string; port: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** 0: trunks are not probed. */
  trunkProbeIntervalMs: number;
  voicemail: VoicemailSettings;
}

export function parseGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const result = v.safeParse(Schema, env);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? '?'}: ${issue.message}`);
    throw new Error(`invalid gateway configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = result.output;
  return {
    nodeId: e.SIP_GATEWAY_NODE_ID,
    edgeUrl: e.SIP_GATEWAY_EDGE_URL,
    secret: e.SIP_GATEWAY_SECRET,
    listen: { host: e.SIP_GATEWAY_LISTEN_HOST, port: e.SIP_GATEWAY_LISTEN_PORT },
    controlUrl: e.SIP_GATEWAY_CONTROL_URL ?? `http://${e.SIP_GATEWAY_LISTEN_HOST}:${e.SIP_GATEWAY_LISTEN_PORT}`,
    localToken: e.SIP_GATEWAY_LOCAL_TOKEN,
    realm: e.SIP_GATEWAY_REALM,
    proxy: e.SIP_GATEWAY_PROXY,
    drachtio: { host: e.DRACHTIO_HOST, port: e.DRACHTIO_PORT, secret: e.DRACHTIO_SECRET },
    rtpengine: { host: e.RTPENGINE_HOST, port: e.RTPENGINE_PORT },
    logLevel: e.LOG_LEVEL,
    trunkProbeIntervalMs: e.SIP_GATEWAY_TRUNK_PROBE_SECONDS * 1000,
    voicemail: {
      dir: e.SIP_GATEWAY_VOICEMAIL_DIR,
      greeting: e.SIP_GATEWAY_VOICEMAIL_GREETING,
      ip: e.SIP_GATEWAY_MEDIA_IP,
      ports: { min: e.SIP_GATEWAY_RECORDER_PORTS[0], max: e.SIP_GATEWAY_RECORDER_PORTS[1] },
    },
  };
}
