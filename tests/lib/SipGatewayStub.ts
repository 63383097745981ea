/**
 * The SIP gateway as a test plays it (protocol/src/sip.ts): an HTTP server on loopback that is the
 * gateway's control URL, where the edge posts server messages for SIP devices. Every delivery's
 * signature is checked with `verifyControlSignature` (and its nonce against replays) before it is
 * recorded; anything refused is kept in `refused` so a test can require that there was none. The
 * requests the gateway makes of the edge (`/api/sip/...`) are signed here with the nodes' secret.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import {
  CONTROL_SIGNATURE_HEADER,
  CONTROL_SIGNATURE_MAX_SKEW_SECONDS,
  NonceCache,
  SIP_DEVICE_MESSAGES_PATH,
  SipDelivery,
  signControlRequest,
  verifyControlSignature,
  type ClientMessage,
  type ServerMessage,
  type SipDevice,
  type SipGatewayNode,
} from '@callstack/protocol';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export interface EdgeAnswer<T = unknown> {
  status: number;
  body: T;
}

interface Waiter {
  match: (delivery: SipDelivery) => boolean;
  resolve: (delivery: SipDelivery) => void;
}

export class SipGatewayStub {
  /** Deliveries whose signature and body were valid, in arrival order. */
  readonly deliveries: SipDelivery[] = [];
  /** Deliveries refused (bad signature, replay, wrong path, bad body), with why. */
  readonly refused: { status: number; reason: string }[] = [];
  readonly node: SipGatewayNode;
  private readonly nonces = new NonceCache(2 * CONTROL_SIGNATURE_MAX_SKEW_SECONDS * 1000);
  private readonly consumed = new Set<SipDelivery>();
  private readonly waiters: Waiter[] = [];

  private constructor(
    private readonly server: Server,
    private readonly edgeUrl: string,
    private readonly secret: string,
    nodeId: string,
  ) {
    const { port } = server.address() as AddressInfo;
    this.node = { nodeId, controlUrl: `http://127.0.0.1:${port}` };
  }

  static async start(edgeUrl: string, secret: string, nodeId = `test-gateway-${crypto.randomUUID().slice(0, 8)}`): Promise<SipGatewayStub> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const stub = new SipGatewayStub(server, edgeUrl, secret, nodeId);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void readBody(req)
        .then((body) => stub.receive(req, body))
        .catch((error: unknown) => ({ status: 500, reason: String(error) }))
        .then(({ status, reason }) => {
          if (status !== 204) stub.refused.push({ status, reason });
          res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
        });
    });
    return stub;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- what the edge posts to the gateway ---------------------------------------------------

  private async receive(req: IncomingMessage, body: string): Promise<{ status: number; reason: string }> {
    const url = new URL(req.url ?? '/', this.node.controlUrl);
    if (req.method !== 'POST' || url.pathname !== SIP_DEVICE_MESSAGES_PATH) return { status: 404, reason: `${req.method} ${url.pathname}` };
    if (req.headers['content-type']?.split(';')[0]?.trim() !== 'application/json')
      return { status: 415, reason: `content-type ${req.headers['content-type']}` };
    const header = req.headers[CONTROL_SIGNATURE_HEADER];
    const check = await verifyControlSignature(this.secret, typeof header === 'string' ? header : undefined, {
      method: 'POST',
      path: url.pathname + url.search,
      body,
    });
    if (!check.ok) return { status: 401, reason: `${check.code}: ${check.message}` };
    if (this.nonces.seen(check.nonce)) return { status: 409, reason: 'replayed signature' };
    const delivery = parseDelivery(body);
    if (!delivery) return { status: 400, reason: `not a SIP delivery: ${body.slice(0, 200)}` };
    this.deliveries.push(delivery);
    const index = this.waiters.findIndex((waiter) => waiter.match(delivery));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(delivery);
    return { status: 204, reason: '' };
  }

  /**
   * The first delivery to `deviceId` of `type` (matching `where`) not yet consumed, waiting up to
   * `timeoutMs`; deliveries that arrived earlier count.
   */
  next<T extends ServerMessage['type']>(deviceId: string, type: T, where: (message: Of<T>) => boolean = () => true, timeoutMs = 15_000): Promise<Of<T>> {
    const match = (delivery: SipDelivery) =>
      !this.consumed.has(delivery) && delivery.device.deviceId === deviceId && delivery.message.type === type && where(delivery.message as Of<T>);
    const seen = this.deliveries.find(match);
    if (seen) {
      this.consumed.add(seen);
      return Promise.resolve(seen.message as Of<T>);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (delivery) => {
          clearTimeout(timer);
          this.consumed.add(delivery);
          resolve(delivery.message as Of<T>);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        const got = this.deliveries.filter((d) => d.device.deviceId === deviceId).map((d) => d.message.type);
        reject(new Error(`no ${type} for ${deviceId} within ${timeoutMs} ms; got: ${got.join(', ') || 'nothing'}; refused: ${JSON.stringify(this.refused)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Deliveries to `deviceId` of `type`, consumed or not. */
  all<T extends ServerMessage['type']>(deviceId: string, type: T): Of<T>[] {
    return this.deliveries.filter((d) => d.device.deviceId === deviceId && d.message.type === type).map((d) => d.message as Of<T>);
  }

  // ---- what the gateway asks of the edge ----------------------------------------------------

  /** A signed POST to the edge; `options` spoil it for tests of the refusals. */
  async post<T = unknown>(
    path: string,
    payload: unknown,
    options: { signature?: string | null; contentType?: string; secret?: string; timestamp?: number; nonce?: string; signedPath?: string } = {},
  ): Promise<EdgeAnswer<T> & { signature: string | null; rawBody: string }> {
    const rawBody = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const signature =
      options.signature === undefined
        ? await signControlRequest(
            options.secret ?? this.secret,
            { method: 'POST', path: options.signedPath ?? path, body: rawBody },
            { timestamp: options.timestamp, nonce: options.nonce },
          )
        : options.signature;
    return { ...(await this.sendRaw<T>(path, rawBody, signature, options.contentType)), signature, rawBody };
  }

  /** Sends exactly this body and signature header (a replay sends a captured pair again). */
  async sendRaw<T = unknown>(path: string, rawBody: string, signature: string | null, contentType = 'application/json'): Promise<EdgeAnswer<T>> {
    const response = await fetch(`${this.edgeUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(signature === null ? {} : { [CONTROL_SIGNATURE_HEADER]: signature }) },
      body: rawBody,
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Left as text: the assertion that follows shows it.
    }
    return { status: response.status, body: body as T };
  }

  credentials(username: string) {
    return this.post<unknown>('/api/sip/credentials', { username });
  }

  /** One contact's registration (`expires` 0 removes it; contact `*` removes every one). */
  register(username: string, expires: number, contact = `sip:${username}@192.0.2.10:5060`) {
    return this.post<unknown>('/api/sip/registrations', { node: this.node, username, contact, expires, userAgent: 'CallStack test gateway' });
  }

  route(username: string, target: string) {
    return this.post<unknown>('/api/sip/route', { node: this.node, username, target });
  }

  /** A client message from `device`; the answer's body is what a socket would get back (`ack`, `error`, a reply). */
  message(device: SipDevice, message: ClientMessage) {
    return this.post<ServerMessage>('/api/sip/messages', { node: this.node, device, message });
  }
}

/** A delivery as the gateway takes it: the protocol's SipDelivery schema, whole (the edge's decisions included). */
function parseDelivery(body: string): SipDelivery | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = v.safeParse(SipDelivery, json);
  return parsed.success ? parsed.output : null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
