/**
 * The control API over HTTP (node:http, JSON). Routes come from protocol's CONTROL_API;
 * bodies are validated with `ControlRequest` at this boundary, so the node only sees typed
 * requests. Authentication, in order:
 *
 * - `GET /health`: none (load balancer / agent liveness).
 * - everything else: `X-CallStack-Signature` (protocol/controlSignature.ts), at most 60 s of skew,
 *   each nonce accepted once.
 * - `GET /control/recordings/:recordingId/files/:fileName` (signed) streams a finished track file.
 * - `POST /control/drain`, `GET /control/status`, `GET /metrics` also accept
 *   `Authorization: Bearer <MEDIA_CONTROL_SECRET>`, from loopback only: that is how the node agent
 *   (infra-cdk/lib/node/media.sh) and a local scraper call them.
 */
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import * as v from 'valibot';
import {
  CONTROL_SIGNATURE_HEADER,
  CONTROL_SIGNATURE_MAX_SKEW_SECONDS,
  ControlRequest,
  MAX_CONTROL_BODY_BYTES,
  MediaErrorCode,
  NonceCache,
  describeIssues,
  matchControlRoute,
  matchRecordingFilePath,
  verifyControlSignature,
} from '@callstack/protocol';
import { ControlError } from './errors.ts';
import type { MediaNode } from './MediaNode.ts';

const AGENT_PATHS = new Set(['/control/drain', '/control/status', '/metrics']);
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface ControlServerOptions {
  node: MediaNode;
  metrics: Registry;
  secret: string;
  logger: Logger;
}

export class ControlServer {
  readonly #options: ControlServerOptions;
  readonly #server: Server;
  readonly #nonces = new NonceCache(2 * CONTROL_SIGNATURE_MAX_SKEW_SECONDS * 1000);
  readonly #bearer: Buffer;

  constructor(options: ControlServerOptions) {
    this.#options = options;
    this.#bearer = Buffer.from(`Bearer ${options.secret}`);
    this.#server = createServer((req, res) => {
      this.#serve(req, res).catch((error: unknown) => this.#fail(res, error, req));
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve(this.#server.address() as AddressInfo));
    });
  }

  /** Stops accepting connections and waits for requests in flight. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const pathname = new URL(rawPath, 'http://node').pathname;
    if (method === 'GET' && pathname === '/health') {
      const live = this.#options.node.pool.workers.some((worker) => !worker.closed);
      return this.#send(res, live ? 200 : 503, { ok: live, draining: this.#options.node.draining });
    }
    const body = await readBody(req);
    await this.#authenticate(req, method, rawPath, pathname, body);

    if (pathname === '/metrics' && method === 'GET') {
      const text = await this.#options.metrics.metrics();
      res.writeHead(200, { 'content-type': this.#options.metrics.contentType }).end(text);
      return;
    }
    if (method === 'GET' && pathname.startsWith('/control/recordings/')) return this.#sendRecordingFile(res, pathname);
    const route = matchControlRoute(method, pathname);
    if (!route.ok) {
      throw route.reason === 'not_found'
        ? new ControlError(MediaErrorCode.notFound, `no route for ${pathname}`)
        : new ControlError(MediaErrorCode.methodNotAllowed, `${method} not allowed on ${pathname}`);
    }
    let fields: unknown = {};
    if (body.length > 0) {
      try {
        fields = JSON.parse(body);
      } catch {
        throw new ControlError(MediaErrorCode.badRequest, 'body is not valid JSON');
      }
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new ControlError(MediaErrorCode.badRequest, 'body must be a JSON object');
    }
    // Path params and the route's type win over the body: the signature covers both anyway.
    const parsed = v.safeParse(ControlRequest, { ...fields, ...route.params, type: route.type });
    if (!parsed.success) throw new ControlError(MediaErrorCode.badRequest, describeIssues(parsed.issues));
    this.#send(res, 200, await this.#options.node.handle(parsed.output));
  }

  async #authenticate(req: IncomingMessage, method: string, rawPath: string, pathname: string, body: string): Promise<void> {
    const signature = req.headers[CONTROL_SIGNATURE_HEADER];
    if (typeof signature !== 'string' && AGENT_PATHS.has(pathname) && LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length === this.#bearer.length && timingSafeEqual(given, this.#bearer)) return;
    }
    const check = await verifyControlSignature(this.#options.secret, typeof signature === 'string' ? signature : undefined, { method, path: rawPath, body });
    if (!check.ok) throw new ControlError(check.code, check.message);
    if (this.#nonces.seen(check.nonce)) throw new ControlError(MediaErrorCode.replayed, 'nonce already used');
  }

  async #sendRecordingFile(res: ServerResponse, pathname: string): Promise<void> {
    const ref = matchRecordingFilePath(pathname);
    if (!ref) throw new ControlError(MediaErrorCode.notFound, `no recording file at ${pathname}`);
    const file = await this.#options.node.recordingFile(ref.recordingId, ref.fileName);
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.size) });
    await pipeline(createReadStream(file.path), res);
  }

  #send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  #fail(res: ServerResponse, error: unknown, req: IncomingMessage): void {
    const known = error instanceof ControlError ? error : undefined;
    const log = this.#options.logger;
    if (known) log.debug({ method: req.method, path: req.url, code: known.code }, known.message);
    else log.error({ err: error, method: req.method, path: req.url }, 'control request failed');
    const answer = known ?? new ControlError(MediaErrorCode.internal, 'internal error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.#send(res, answer.status, answer.toBody());
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CONTROL_BODY_BYTES) throw new ControlError(MediaErrorCode.payloadTooLarge, `body exceeds ${MAX_CONTROL_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
