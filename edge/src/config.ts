/**
 * The edge's one configuration: every variable and secret of the Worker (wrangler.toml `[vars]`,
 * `wrangler secret put`, `--var`) is described once here, parsed once per isolate, and read by
 * every module as typed values (`config(env).ringTimeoutMs`). A bad value fails with a message that
 * names every wrong variable at once, never as NaN at run time. Pure valibot: `npm start` and
 * `npm test` check the variables they pass with the same schema before starting the edge.
 */
import { TrunkList, type Trunk } from '@callstack/protocol';
import * as v from 'valibot';

/** The realm of seeded and new SIP credentials unless SIP_REALM says otherwise. */
export const DEFAULT_SIP_REALM = 'sip.callstack.local';

/** The variables as the runtime hands them over (strings, or absent). */
export type RawConfig = Partial<Record<ConfigVariable, string>>;

/** A whole number of at least `min` (and at most `max` where more makes no sense). */
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const message = max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`;
  return v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, message), v.transform(Number), v.minValue(min, message), v.maxValue(max, message));
};

/** A duration in seconds, fractions allowed (as they always were); zero only where `zero` says so. */
const seconds = ({ zero = false } = {}) => {
  const message = zero ? 'must be a number of seconds, 0 or more' : 'must be a number of seconds above 0';
  return v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d+(\.\d+)?$/, message),
    v.transform(Number),
    v.check((value) => (zero ? value >= 0 : value > 0), message),
  );
};

const secret = (minLength: number) => v.pipe(v.string(), v.minLength(minLength, `must be at least ${minLength} characters`));

const url = (schemes: string[]) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.check(
      (value) => {
        try {
          return schemes.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a ${schemes.map((scheme) => `${scheme}//`).join(' or ')} URL`,
    ),
  );

/** `a, b,c` -> `['a', 'b', 'c']`. */
const commaList = v.pipe(
  v.string(),
  v.transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  ),
);

/** `turn:host:3478?transport=udp,stun:host:3478`: each entry a STUN or TURN URL. */
const iceUrls = v.pipe(
  commaList,
  v.check((urls) => urls.every((entry) => /^(stun|turns?):[^\s,]+$/.test(entry)), 'must be comma-separated stun:, turn: or turns: URLs'),
);

/** `kid:secret,kid:secret`: verification-only keys of earlier rotations. */
const previousKeys = v.pipe(
  commaList,
  v.transform((entries) =>
    entries.map((entry) => ({ kid: entry.slice(0, Math.max(0, entry.indexOf(':'))).trim(), secret: entry.slice(entry.indexOf(':') + 1).trim() })),
  ),
  v.check((keys) => keys.every(({ kid, secret }) => kid !== '' && secret !== ''), 'must be kid:secret pairs, comma-separated'),
);

/** A JSON array of carrier trunks (protocol/src/pstn.ts `Trunk`), each problem named by its place. */
const trunks = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return JSON.parse(dataset.value) as unknown;
    } catch {
      addIssue({ message: 'must be a JSON array of trunks' });
      return NEVER;
    }
  }),
  TrunkList,
  v.check((list) => new Set(list.map((trunk) => trunk.id)).size === list.length, 'must not name two trunks with the same id'),
);

const optional = <S extends v.GenericSchema<string, unknown>>(schema: S) => v.optional(schema);
const withDefault = <S extends v.GenericSchema<string, unknown>>(schema: S, fallback: string) => v.optional(schema, fallback);

const RawSchema = v.object({
  /** Postgres connection string (Neon in production). Secret. */
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  /** Local development only: ws:// URL of the WebSocket-to-TCP relay in front of Postgres. */
  NEON_WS_PROXY: optional(v.pipe(v.string(), v.trim(), v.regex(/^(wss?:\/\/)?[^\s/]+(\/\S*)?$/, 'must be a ws:// URL (or host:port) of the relay'))),
  /** HMAC key for access tokens. Secret. */
  JWT_SECRET: secret(16),
  /** Key id stamped into access tokens so keys can rotate. */
  JWT_KID: withDefault(v.pipe(v.string(), v.regex(/^[^\s,:]+$/, 'must be a key id without spaces, commas or colons')), 'k1'),
  /** Verification-only signing keys of earlier rotations: `kid:secret,kid:secret`. Secret. */
  JWT_PREVIOUS_KEYS: withDefault(previousKeys, ''),
  /** coturn `static-auth-secret`. Secret. When absent, no TURN server is offered. */
  TURN_SECRET: optional(secret(1)),
  /** Comma-separated TURN/STUN URLs, e.g. `turn:turn.example.com:3478?transport=udp,turns:turn.example.com:443`. */
  TURN_URLS: withDefault(iceUrls, ''),
  TURN_TTL_SECONDS: withDefault(seconds(), '3600'),
  /** How long a call may ring before it ends as no-answer. */
  RING_TIMEOUT_SECONDS: withDefault(seconds(), '30'),
  /** Sign-in throttling: failures allowed per account / per IP in 15 minutes, and the first lock. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: withDefault(integer(1), '5'),
  LOGIN_MAX_FAILURES_PER_IP: withDefault(integer(1), '50'),
  LOGIN_LOCK_BASE_SECONDS: withDefault(seconds(), '30'),
  /** HTTP mail API (Resend-compatible `POST {from,to,subject,text}`); unset: mail waits in the outbox. */
  MAIL_ENDPOINT: optional(url(['http:', 'https:'])),
  /** Bearer key of the mail API. Secret. */
  MAIL_API_KEY: withDefault(v.string(), ''),
  MAIL_FROM: withDefault(v.pipe(v.string(), v.minLength(3, 'must be a sender address')), 'CallStack <no-reply@callstack.invalid>'),
  /** Stripe's secret key (`sk_…`); unset: invoices are made but not charged. Secret. */
  STRIPE_SECRET_KEY: optional(v.pipe(v.string(), v.regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_… or sk_live_…)'))),
  /** The signing secret of the webhook endpoint (`whsec_…`). Secret. */
  STRIPE_WEBHOOK_SECRET: withDefault(v.string(), ''),
  /** Where Stripe's API is: unset for Stripe itself; the local stand-in's URL under `npm start` and `npm test`. */
  STRIPE_API_URL: optional(url(['http:', 'https:'])),
  /** The platform operator's own organisation (a tenant id): its admins upload the plans' rate decks in the console. Unset: decks come only from `npm run billing`. */
  PLATFORM_TENANT_ID: optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must be a tenant id'))),
  /** Public base URL for links in mail (reset links); defaults to the request's origin. */
  PUBLIC_URL: optional(url(['http:', 'https:'])),
  /** Digest realm of SIP credentials. */
  SIP_REALM: withDefault(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty')), DEFAULT_SIP_REALM),
  /** Presence shards per tenant; see edge/README.md "Presence" before changing it (beyond 64 a change costs one hub too many RPCs). */
  PRESENCE_SHARDS: withDefault(integer(1, 64), '4'),
  /** How long a user whose last device left stays as they were before going offline. */
  PRESENCE_OFFLINE_GRACE_SECONDS: withDefault(seconds({ zero: true }), '30'),
  /** HMAC key shared with the media nodes (control API, events, registration). Secret. */
  MEDIA_CONTROL_SECRET: optional(secret(16)),
  /** A node not heard from for this long gets no rooms, and its rooms move. */
  MEDIA_NODE_TTL_SECONDS: withDefault(seconds(), '180'),
  /** Participants per room (about what one 4-vCPU node carries with video). */
  ROOM_MAX_PARTICIPANTS: withDefault(integer(1), '30'),
  /**
   * S3-compatible storage the media nodes upload recordings to (their MEDIA_RECORDINGS_S3_*): the
   * edge presigns download URLs with these. Unset: recordings stay on the nodes' disks.
   */
  RECORDINGS_S3_ENDPOINT: optional(url(['http:', 'https:'])),
  RECORDINGS_S3_BUCKET: optional(v.pipe(v.string(), v.regex(/^[a-z0-9.-]{3,63}$/, 'must be an S3 bucket name'))),
  RECORDINGS_S3_REGION: withDefault(v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,32}$/, 'must be a region name')), 'us-east-1'),
  RECORDINGS_S3_ACCESS_KEY_ID: optional(secret(1)),
  /** Secret. */
  RECORDINGS_S3_SECRET_ACCESS_KEY: optional(secret(1)),
  /**
   * The carrier trunks for calls to and from the outside, in failover order (a JSON array: id,
   * host, port, transport, addresses, credentials, country, numberFormat, codecs, maxChannels).
   * Secret (it holds the carriers' credentials). Empty: no calls to the outside.
   */
  PSTN_TRUNKS: withDefault(trunks, '[]'),
  /**
   * The SIP gateways' control API (sip-edge/), where calls the edge places towards the phone
   * network start (a browser dialling a number): one gateway locally, the gateways' load balancer
   * in production. The gateway that takes a call names itself, and the call's later messages go to
   * it. Unset: browsers cannot dial numbers (desk phones still can).
   */
  SIP_GATEWAY_URL: optional(url(['http:', 'https:'])),
});

export type ConfigVariable = keyof typeof RawSchema.entries;

type Raw = v.InferOutput<typeof RawSchema>;

export interface Config {
  databaseUrl: string;
  neonWsProxy: string | null;
  jwt: { secret: string; kid: string; previousKeys: { kid: string; secret: string }[] };
  /** Null when no TURN/STUN server is configured. */
  turn: { secret: string; urls: string[] } | null;
  /** Lifetime of TURN credentials (also answered when no TURN server is configured). */
  turnTtlSeconds: number;
  ringTimeoutMs: number;
  login: { maxFailuresPerAccount: number; maxFailuresPerIp: number; lockBaseSeconds: number };
  /** Null: mail waits in the outbox. */
  mail: { endpoint: string; apiKey: string; from: string } | null;
  /** Null: invoices stay drafts here. `apiUrl` null: Stripe's own servers. */
  stripe: { secretKey: string; webhookSecret: string; apiUrl: string | null } | null;
  /** Null: no organisation manages rate decks from the console. */
  platformTenantId: string | null;
  publicUrl: string | null;
  sipRealm: string;
  presence: { shards: number; offlineGraceMs: number };
  /** Null: conference rooms and node requests are not configured. */
  mediaControlSecret: string | null;
  mediaNodeTtlMs: number;
  roomMaxParticipants: number;
  /** Null: recordings stay on the nodes' disks. */
  recordingsS3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string } | null;
  /** Carrier trunks in failover order; empty: no calls to the outside. */
  pstnTrunks: Trunk[];
  /** Null: browsers cannot dial numbers. */
  sipGatewayUrl: string | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`the edge's configuration is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

const S3_VARIABLES = ['RECORDINGS_S3_ENDPOINT', 'RECORDINGS_S3_BUCKET', 'RECORDINGS_S3_ACCESS_KEY_ID', 'RECORDINGS_S3_SECRET_ACCESS_KEY'] as const;

/** Validates every variable and reports every problem at once (ConfigError). */
export function parseConfig(raw: RawConfig): Config {
  // Only the variables the schema knows: bindings (Durable Object namespaces, ASSETS) ride along on env.
  const input = Object.fromEntries(
    Object.keys(RawSchema.entries)
      .filter((key) => typeof (raw as Record<string, unknown>)[key] === 'string')
      .map((key) => [key, (raw as Record<string, string>)[key]]),
  );
  const result = v.safeParse(RawSchema, input);
  if (!result.success) {
    throw new ConfigError(
      result.issues.map((issue) => `${v.getDotPath(issue) ?? 'configuration'}: ${issue.input === undefined ? 'is required' : issue.message}`),
    );
  }
  const r = result.output;
  const s3Set = S3_VARIABLES.filter((name) => r[name] !== undefined);
  if (s3Set.length > 0 && s3Set.length < S3_VARIABLES.length) {
    throw new ConfigError([
      `${S3_VARIABLES.filter((name) => r[name] === undefined).join(', ')}: required when ${s3Set.join(', ')} ${s3Set.length === 1 ? 'is' : 'are'} set`,
    ]);
  }
  return toConfig(r);
}

function toConfig(r: Raw): Config {
  return {
    databaseUrl: r.DATABASE_URL,
    neonWsProxy: r.NEON_WS_PROXY ?? null,
    jwt: { secret: r.JWT_SECRET, kid: r.JWT_KID, previousKeys: r.JWT_PREVIOUS_KEYS },
    turn: r.TURN_SECRET && r.TURN_URLS.length > 0 ? { secret: r.TURN_SECRET, urls: r.TURN_URLS } : null,
    turnTtlSeconds: r.TURN_TTL_SECONDS,
    ringTimeoutMs: r.RING_TIMEOUT_SECONDS * 1000,
    login: {
      maxFailuresPerAccount: r.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerIp: r.LOGIN_MAX_FAILURES_PER_IP,
      lockBaseSeconds: r.LOGIN_LOCK_BASE_SECONDS,
    },
    mail: r.MAIL_ENDPOINT ? { endpoint: r.MAIL_ENDPOINT, apiKey: r.MAIL_API_KEY, from: r.MAIL_FROM } : null,
    stripe: r.STRIPE_SECRET_KEY ? { secretKey: r.STRIPE_SECRET_KEY, webhookSecret: r.STRIPE_WEBHOOK_SECRET, apiUrl: r.STRIPE_API_URL ?? null } : null,
    platformTenantId: r.PLATFORM_TENANT_ID ?? null,
    publicUrl: r.PUBLIC_URL ?? null,
    sipRealm: r.SIP_REALM,
    presence: { shards: r.PRESENCE_SHARDS, offlineGraceMs: r.PRESENCE_OFFLINE_GRACE_SECONDS * 1000 },
    mediaControlSecret: r.MEDIA_CONTROL_SECRET ?? null,
    mediaNodeTtlMs: r.MEDIA_NODE_TTL_SECONDS * 1000,
    roomMaxParticipants: r.ROOM_MAX_PARTICIPANTS,
    recordingsS3:
      r.RECORDINGS_S3_ENDPOINT && r.RECORDINGS_S3_BUCKET && r.RECORDINGS_S3_ACCESS_KEY_ID && r.RECORDINGS_S3_SECRET_ACCESS_KEY
        ? {
            endpoint: r.RECORDINGS_S3_ENDPOINT,
            bucket: r.RECORDINGS_S3_BUCKET,
            region: r.RECORDINGS_S3_REGION,
            accessKeyId: r.RECORDINGS_S3_ACCESS_KEY_ID,
            secretAccessKey: r.RECORDINGS_S3_SECRET_ACCESS_KEY,
          }
        : null,
    pstnTrunks: r.PSTN_TRUNKS,
    sipGatewayUrl: r.SIP_GATEWAY_URL ?? null,
  };
}

/** The bindings object differs per isolate, not per request: parse once for each. */
const parsed = new WeakMap<object, Config>();

/** The configuration of this isolate's Worker (or Durable Object); throws ConfigError when invalid. */
export function config(env: RawConfig): Config {
  let value = parsed.get(env);
  if (!value) {
    value = parseConfig(env);
    parsed.set(env, value);
  }
  return value;
}
