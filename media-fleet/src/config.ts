/**
 * Service configuration from the environment (see README "Configuration"), validated once at
 * start: a bad value stops the service with every problem listed, never a half-configured node.
 */
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import * as v from 'valibot';
import { describeIssues } from '@callstack/protocol';
import type { S3Settings } from './S3Store.ts';

const Int = (min: number, max: number) =>
  v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, 'expected an integer'), v.transform(Number), v.minValue(min), v.maxValue(max));
const Bool = v.pipe(
  v.picklist(['true', 'false', '1', '0']),
  v.transform((value) => value === 'true' || value === '1'),
);
const Host = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(253));

const EnvSchema = v.pipe(
  v.object({
    MEDIA_CONTROL_SECRET: v.pipe(v.string('MEDIA_CONTROL_SECRET is required'), v.minLength(16, 'use at least 16 characters')),
    MEDIA_LISTEN_HOST: v.optional(Host, '0.0.0.0'),
    MEDIA_LISTEN_PORT: v.optional(Int(0, 65535), '8443'),
    MEDIA_RTC_LISTEN_IP: v.optional(v.pipe(v.string(), v.ip()), '0.0.0.0'),
    /** Public address put in ICE candidates (IP or host name); needed when listening on 0.0.0.0. */
    MEDIA_ANNOUNCED_IP: v.optional(Host),
    MEDIA_RTC_MIN_PORT: v.optional(Int(1024, 65535), '40000'),
    MEDIA_RTC_MAX_PORT: v.optional(Int(1024, 65535), '49999'),
    MEDIA_WORKERS: v.optional(Int(1, 256), String(availableParallelism())),
    /** mediasoup's guidance: about 500 consumers per worker (one core). */
    MEDIA_CONSUMERS_PER_WORKER: v.optional(Int(1, 100_000), '500'),
    MEDIA_PLAIN_TRANSPORTS: v.optional(Bool, 'false'),
    EDGE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url())),
    /** Register with the edge every N seconds (needs EDGE_URL); unset: infra-cdk's agent registers the node. */
    MEDIA_REGISTER_INTERVAL_SECONDS: v.optional(Int(1, 3600)),
    /** The control API's URL as the edge reaches it; default http://<announced IP>:<port>. */
    MEDIA_CONTROL_URL: v.optional(v.pipe(v.string(), v.trim(), v.url())),
    MEDIA_NODE_ID: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), hostname()),
    NODE_REGION: v.optional(v.string()),
    /** Where ffmpeg writes track files (relative paths: to the working directory). */
    MEDIA_RECORDINGS_DIR: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1)), '.data/recordings'),
    /** Set to store finished recordings in S3-compatible storage instead of on local disk. */
    MEDIA_RECORDINGS_S3_BUCKET: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not an S3 bucket name'))),
    MEDIA_RECORDINGS_S3_ENDPOINT: v.optional(v.pipe(v.string(), v.trim(), v.url())),
    MEDIA_RECORDINGS_S3_REGION: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1)), 'us-east-1'),
    MEDIA_RECORDINGS_S3_ACCESS_KEY_ID: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1))),
    MEDIA_RECORDINGS_S3_SECRET_ACCESS_KEY: v.optional(v.pipe(v.string(), v.minLength(1))),
    MEDIA_RECORDINGS_S3_SESSION_TOKEN: v.optional(v.string()),
    LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  }),
  v.check((env) => env.MEDIA_RTC_MIN_PORT <= env.MEDIA_RTC_MAX_PORT, 'MEDIA_RTC_MIN_PORT must not exceed MEDIA_RTC_MAX_PORT'),
  v.check(
    (env) => env.MEDIA_RTC_LISTEN_IP !== '0.0.0.0' || env.MEDIA_ANNOUNCED_IP !== undefined,
    'MEDIA_ANNOUNCED_IP is required when MEDIA_RTC_LISTEN_IP is 0.0.0.0',
  ),
  v.check((env) => env.MEDIA_REGISTER_INTERVAL_SECONDS === undefined || env.EDGE_URL !== undefined, 'MEDIA_REGISTER_INTERVAL_SECONDS needs EDGE_URL'),
  v.check(
    (env) =>
      env.MEDIA_RECORDINGS_S3_BUCKET === undefined ||
      (env.MEDIA_RECORDINGS_S3_ENDPOINT !== undefined &&
        env.MEDIA_RECORDINGS_S3_ACCESS_KEY_ID !== undefined &&
        env.MEDIA_RECORDINGS_S3_SECRET_ACCESS_KEY !== undefined),
    'MEDIA_RECORDINGS_S3_BUCKET needs MEDIA_RECORDINGS_S3_ENDPOINT, _ACCESS_KEY_ID and _SECRET_ACCESS_KEY',
  ),
);

export interface MediaConfig {
  controlSecret: string;
  listenHost: string;
  listenPort: number;
  rtc: { listenIp: string; announcedIp: string | undefined; minPort: number; maxPort: number };
  workers: number;
  consumersPerWorker: number;
  plainTransports: boolean;
  edgeUrl: string | undefined;
  /** Self-registration period in seconds; undefined when the node agent registers instead. */
  registerIntervalSeconds: number | undefined;
  /** Control API URL announced in registrations; undefined: derived from the announced IP and port. */
  controlUrl: string | undefined;
  nodeId: string;
  region: string | undefined;
  recordings: {
    /** Absolute. */
    dir: string;
    /** Set: finished files go to this bucket (and leave the disk). */
    s3: S3Settings | undefined;
  };
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): MediaConfig {
  const defined = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = v.safeParse(EnvSchema, defined);
  if (!result.success) {
    throw new ConfigError(`invalid configuration: ${result.issues.map((issue) => describeIssues([issue])).join('; ')}`);
  }
  const c = result.output;
  return {
    controlSecret: c.MEDIA_CONTROL_SECRET,
    listenHost: c.MEDIA_LISTEN_HOST,
    listenPort: c.MEDIA_LISTEN_PORT,
    rtc: { listenIp: c.MEDIA_RTC_LISTEN_IP, announcedIp: c.MEDIA_ANNOUNCED_IP, minPort: c.MEDIA_RTC_MIN_PORT, maxPort: c.MEDIA_RTC_MAX_PORT },
    workers: c.MEDIA_WORKERS,
    consumersPerWorker: c.MEDIA_CONSUMERS_PER_WORKER,
    plainTransports: c.MEDIA_PLAIN_TRANSPORTS,
    edgeUrl: c.EDGE_URL,
    registerIntervalSeconds: c.MEDIA_REGISTER_INTERVAL_SECONDS,
    controlUrl: c.MEDIA_CONTROL_URL,
    nodeId: c.MEDIA_NODE_ID,
    region: c.NODE_REGION,
    recordings: {
      dir: resolve(c.MEDIA_RECORDINGS_DIR),
      s3: c.MEDIA_RECORDINGS_S3_BUCKET
        ? {
            bucket: c.MEDIA_RECORDINGS_S3_BUCKET,
            endpoint: c.MEDIA_RECORDINGS_S3_ENDPOINT!,
            region: c.MEDIA_RECORDINGS_S3_REGION,
            credentials: {
              accessKeyId: c.MEDIA_RECORDINGS_S3_ACCESS_KEY_ID!,
              secretAccessKey: c.MEDIA_RECORDINGS_S3_SECRET_ACCESS_KEY!,
              ...(c.MEDIA_RECORDINGS_S3_SESSION_TOKEN ? { sessionToken: c.MEDIA_RECORDINGS_S3_SESSION_TOKEN } : {}),
            },
          }
        : undefined,
    },
    logLevel: c.LOG_LEVEL,
  };
}
