/**
 * Node registration: every media, SIP and TURN node tells the edge it is alive, every minute and
 * at once when a drain starts (infra-cdk's agent; a media node may register itself, see
 * media-fleet/README). `POST /api/fleet/nodes`, body `NodeRegistration`, header
 *
 *   X-CallStack-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(MEDIA_CONTROL_SECRET, "<t>.<raw body>")>
 *
 * (the Stripe style, as infra-cdk/lib/node/agent.sh signs it; no nonce: a replayed heartbeat only
 * repeats what the node said). The edge allows `NODE_REGISTRATION_MAX_SKEW_SECONDS` of skew.
 */
import * as v from 'valibot';
import { Port } from './ids.ts';
import { Verbatim } from './text.ts';

export const FLEET_NODES_PATH = '/api/fleet/nodes';
const NODE_REGISTRATION_MAX_SKEW_SECONDS = 300;

const Field = (max: number) => Verbatim({ min: 1, max });
/** `v.url` takes whatever `new URL` can percent-encode (a NUL, a lone surrogate): the string is checked first. */
const Url = v.pipe(Verbatim({ max: 256 }), v.url());

const NodeBase = {
  /** The node's id: the EC2 instance id, or MEDIA_NODE_ID for a node that registers itself. */
  instanceId: v.pipe(Field(128), v.regex(/^[A-Za-z0-9_.-]+$/)),
  region: Field(64),
  availabilityZone: Field(64),
  publicIp: Field(253),
  privateIp: Field(253),
  hostname: v.nullable(Field(253)),
  draining: v.boolean(),
};

/** What a media node reports of its load (`GET /control/status`); optional: the agent may omit it. */
const MediaNodeLoad = v.object({
  rooms: v.pipe(v.number(), v.integer(), v.minValue(0)),
  peers: v.pipe(v.number(), v.integer(), v.minValue(0)),
  consumers: v.pipe(v.number(), v.integer(), v.minValue(0)),
  workers: v.pipe(v.number(), v.integer(), v.minValue(1)),
});

export const MediaNodeRegistration = v.object({
  kind: v.literal('media'),
  ...NodeBase,
  /** Base URL of the signed control API, e.g. `http://203.0.113.7:8443`. */
  controlUrl: Url,
  rtcPorts: v.object({ min: Port, max: Port }),
  load: v.optional(MediaNodeLoad),
});
const SipNodeRegistration = v.object({ kind: v.literal('sip'), ...NodeBase, wssUrl: Url });
const TurnNodeRegistration = v.object({
  kind: v.literal('turn'),
  ...NodeBase,
  urls: v.pipe(v.array(v.pipe(Verbatim({ max: 256 }), v.regex(/^turns?:/))), v.maxLength(8)),
});

export const NodeRegistration = v.variant('kind', [MediaNodeRegistration, SipNodeRegistration, TurnNodeRegistration]);
export type NodeRegistration = v.InferOutput<typeof NodeRegistration>;
export type MediaNodeRegistration = v.InferOutput<typeof MediaNodeRegistration>;

const encoder = new TextEncoder();

async function mac(secret: string, timestamp: number, body: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`));
}

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The header value for a registration body; `timestamp` (unix seconds) is for tests. */
export async function signNodeRegistration(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${timestamp},v1=${toHex(await mac(secret, timestamp, body))}`;
}

export type RegistrationCheck = { ok: true } | { ok: false; code: 'unauthorized' | 'signature_expired'; message: string };

/** Checks format, skew and MAC (constant time). Never throws. */
export async function verifyNodeRegistration(
  secret: string,
  header: string | null | undefined,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<RegistrationCheck> {
  if (!header) return { ok: false, code: 'unauthorized', message: 'missing signature' };
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.replace(/\s+/g, ''));
  if (!match) return { ok: false, code: 'unauthorized', message: 'malformed signature' };
  const timestamp = Number(match[1]);
  if (Math.abs(nowSeconds - timestamp) > NODE_REGISTRATION_MAX_SKEW_SECONDS) {
    return { ok: false, code: 'signature_expired', message: `signature timestamp outside ±${NODE_REGISTRATION_MAX_SKEW_SECONDS} s` };
  }
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const given = new Uint8Array(match[2]!.match(/../g)!.map((byte) => parseInt(byte, 16)));
  const valid = await crypto.subtle.verify('HMAC', key, given, encoder.encode(`${timestamp}.${body}`));
  return valid ? { ok: true } : { ok: false, code: 'unauthorized', message: 'signature does not match' };
}
