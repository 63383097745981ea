/**
 * A WebSocket to the edge for tests and benchmarks: validates every frame it receives with the
 * protocol schemas and lets a test await the next message of a type. SignalingClient and
 * PresenceClient are this with their socket's messages.
 */
import { request as httpRequest } from 'node:http';
import type { ParseResult } from '@callstack/protocol';
import { WebSocket } from 'ws';

interface Waiter<In> {
  match: (message: In) => boolean;
  resolve: (message: In) => void;
}

export class SocketClient<In extends { type: string }, Out> {
  readonly received: In[] = [];
  private readonly waiters: Waiter<In>[] = [];
  private readonly consumed = new Set<In>();
  private closed: Promise<{ code: number; reason: string }>;

  protected constructor(
    private readonly ws: WebSocket,
    readonly deviceId: string,
    parse: (raw: string) => ParseResult<In>,
  ) {
    ws.on('message', (data) => {
      const parsed = parse(data.toString());
      if (!parsed.ok) throw new Error(`edge sent an invalid frame: ${parsed.message}: ${data.toString()}`);
      this.received.push(parsed.message);
      this.observe(parsed.message);
      const index = this.waiters.findIndex((waiter) => waiter.match(parsed.message));
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(parsed.message);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Resolves once the socket is open; rejects with the status when the upgrade is refused. */
  protected static opened(ws: WebSocket): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  /** Called with every valid frame before waiters see it. */
  protected observe(_message: In): void {}

  send(message: Out): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /**
   * The first message of `type` (matching `where`) not yet consumed, waiting up to `timeoutMs`.
   * Messages already received count, so a test cannot miss one that arrived early.
   */
  next<T extends In['type']>(
    type: T,
    where: (message: Extract<In, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<In, { type: T }>> {
    return this.waitFor((message) => message.type === type && where(message as Extract<In, { type: T }>), type, timeoutMs) as Promise<Extract<In, { type: T }>>;
  }

  protected waitFor(match: (message: In) => boolean, what: string, timeoutMs: number): Promise<In> {
    const seen = this.received.find((message) => match(message) && !this.consumed.has(message));
    if (seen) {
      this.consumed.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter<In> = {
        match: (message) => match(message) && !this.consumed.has(message),
        resolve: (message) => {
          clearTimeout(timer);
          this.consumed.add(message);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms on device ${this.deviceId}; got: ${this.received.map((m) => m.type).join(', ')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Received messages of a type (consumed or not). */
  all<T extends In['type']>(type: T): Extract<In, { type: T }>[] {
    return this.received.filter((message): message is Extract<In, { type: T }> => message.type === type);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  whenClosed(): Promise<{ code: number; reason: string }> {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000);
    await this.closed;
  }
}

/** A single-use socket ticket for the holder of `accessToken` (what the softphone mints before each upgrade). */
export async function socketTicket(baseUrl: string, accessToken: string): Promise<string> {
  const answer = await fetch(`${baseUrl}/api/sockets/ticket`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  if (answer.status !== 201) throw new Error(`no socket ticket: ${answer.status} ${await answer.text()}`);
  return ((await answer.json()) as { ticket: string }).ticket;
}

/** The `ws://` URL of an edge WebSocket route, with a fresh ticket for the holder of `accessToken`. */
export async function socketUrl(baseUrl: string, path: string, accessToken: string, deviceId: string): Promise<string> {
  return `${baseUrl.replace(/^http/, 'ws')}${path}?ticket=${encodeURIComponent(await socketTicket(baseUrl, accessToken))}&device=${deviceId}`;
}

/** Attempts a WebSocket upgrade that must be refused, and returns the refusal (fetch cannot send an Upgrade header). */
export function refusedUpgrade(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    request.on('upgrade', () => reject(new Error('the upgrade was accepted')));
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    });
    request.on('error', reject);
    request.end();
  });
}
