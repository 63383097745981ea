/**
 * For the colocated tests: the service started in-process on an ephemeral port with real
 * mediasoup workers, and a client that signs requests as the edge does.
 */
import { createSocket, type Socket } from 'node:dgram';
import { CONTROL_SIGNATURE_HEADER, signControlRequest, toControlHttp, type ControlRequestInput, type ControlResponses } from '@callstack/protocol';
import { loadConfig } from './config.ts';
import { ControlServer } from './ControlServer.ts';
import { createLogger } from './logger.ts';
import { MediaNode } from './MediaNode.ts';
import { createMetrics } from './metrics.ts';

export const SECRET = 'test-secret-0123456789';

export interface Service {
  url: string;
  node: MediaNode;
  /** A signed request; resolves with the status and the parsed body. */
  raw(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<{ status: number; body: unknown }>;
  /** A signed control request; throws unless it answers 200. */
  call<R extends ControlRequestInput>(request: R): Promise<ControlResponses[R['type']]>;
  close(): Promise<void>;
}

export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const config = loadConfig({
    MEDIA_CONTROL_SECRET: SECRET,
    MEDIA_LISTEN_HOST: '127.0.0.1',
    MEDIA_LISTEN_PORT: '0',
    MEDIA_RTC_LISTEN_IP: '127.0.0.1',
    MEDIA_WORKERS: '1',
    MEDIA_PLAIN_TRANSPORTS: 'true',
    MEDIA_NODE_ID: 'test-node',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...env,
  });
  const logger = createLogger(config);
  const node = await MediaNode.start(config, logger);
  const server = new ControlServer({ node, metrics: createMetrics(node), secret: config.controlSecret, logger });
  const { port } = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;

  const raw: Service['raw'] = async (method, path, body = '', headers) => {
    const signature = await signControlRequest(SECRET, { method, path, body });
    const response = await fetch(url + path, {
      method,
      headers: headers ?? { [CONTROL_SIGNATURE_HEADER]: signature, 'content-type': 'application/json' },
      body: body || undefined,
    });
    const text = await response.text();
    return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
  const call: Service['call'] = async (request) => {
    const http = toControlHttp(request);
    const { status, body } = await raw(http.method, http.path, http.body ?? '');
    if (status !== 200) throw new Error(`${request.type} answered ${status}: ${JSON.stringify(body)}`);
    return body as never;
  };
  return {
    url,
    node,
    raw,
    call,
    close: async () => {
      await server.close();
      await node.close();
    },
  };
}

export function udpSocket(sockets: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    sockets.push(socket);
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/** Resolves once `predicate` holds for a value `poll` returns (checked every 20 ms, up to 5 s). */
export async function eventually<T>(poll: () => T | Promise<T>, predicate: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await poll();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
