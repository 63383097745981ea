/**
 * A local media node (media-fleet/src/main.ts under tsx) for `npm start` and the tests: control
 * API on a free loopback port, RTC on 127.0.0.1 in its own port range, registering itself with
 * the edge every `registerIntervalSeconds`. Resolves once the edge took its first registration.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, Service } from './processes.ts';
import { ROOT } from './stack.ts';

export interface MediaNodeOptions {
  nodeId: string;
  edgeUrl: string;
  secret: string;
  logFile: string;
  rtcPorts: { min: number; max: number };
  registerIntervalSeconds?: number;
  /** Plain RTP transports (no DTLS), for tests that send RTP from Node. */
  plainTransports?: boolean;
  /** MEDIA_RECORDINGS_DIR; default: the node's own default (`.data/recordings` of the checkout). */
  recordingsDir?: string;
}

export interface LocalMediaNode {
  nodeId: string;
  controlUrl: string;
  service: Service;
  stop(): Promise<void>;
}

/** Builds (or copies from the cache) the mediasoup worker; under a second when cached. */
export function buildMediaWorker(): void {
  const result = spawnSync('npm', ['run', '--silent', 'build:worker', '-w', 'media-fleet'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`mediasoup worker build failed:\n${result.stdout}${result.stderr}`);
}

export async function startMediaNode(options: MediaNodeOptions): Promise<LocalMediaNode> {
  const port = await freePort();
  const controlUrl = `http://127.0.0.1:${port}`;
  const service = new Service({
    name: `media node ${options.nodeId}`,
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'media-fleet/src/main.ts')],
    cwd: ROOT,
    env: {
      ...process.env,
      MEDIA_CONTROL_SECRET: options.secret,
      MEDIA_LISTEN_HOST: '127.0.0.1',
      MEDIA_LISTEN_PORT: String(port),
      MEDIA_RTC_LISTEN_IP: '127.0.0.1',
      MEDIA_ANNOUNCED_IP: '127.0.0.1',
      MEDIA_RTC_MIN_PORT: String(options.rtcPorts.min),
      MEDIA_RTC_MAX_PORT: String(options.rtcPorts.max),
      MEDIA_WORKERS: '1',
      MEDIA_PLAIN_TRANSPORTS: String(options.plainTransports ?? false),
      MEDIA_NODE_ID: options.nodeId,
      MEDIA_CONTROL_URL: controlUrl,
      MEDIA_REGISTER_INTERVAL_SECONDS: String(options.registerIntervalSeconds ?? 60),
      EDGE_URL: options.edgeUrl,
      ...(options.recordingsDir ? { MEDIA_RECORDINGS_DIR: options.recordingsDir } : {}),
    },
    logFile: options.logFile,
    readyPattern: /registered with the edge/,
    readyTimeoutMs: 30_000,
  });
  await service.start();
  return { nodeId: options.nodeId, controlUrl, service, stop: () => service.stop() };
}
