/**
 * A signaling device for tests and benchmarks: a real WebSocket to the edge that validates what
 * it receives with the protocol schemas and lets a test await the next message of a type.
 */
import { parseServerMessage, type ClientMessage, type ServerMessage } from '@callstack/protocol';
import { WebSocket } from 'ws';
import type { TestUser } from './fixtures.ts';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

interface Waiter {
  match: (message: ServerMessage) => boolean;
  resolve: (message: ServerMessage) => void;
}

export class SignalingClient {
  readonly received: ServerMessage[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly consumed = new Set<ServerMessage>();
  private closed: Promise<{ code: number; reason: string }>;

  private constructor(private readonly ws: WebSocket, readonly deviceId: string) {
    ws.on('message', (data) => {
      const parsed = parseServerMessage(data.toString());
      if (!parsed.ok) throw new Error(`edge sent an invalid frame: ${parsed.message}: ${data.toString()}`);
      this.received.push(parsed.message);
      const index = this.waiters.findIndex((waiter) => waiter.match(parsed.message));
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(parsed.message);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(baseUrl: string, token: string, deviceId: string = crypto.randomUUID()): Promise<SignalingClient> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/api/signaling?token=${encodeURIComponent(token)}&device=${deviceId}`;
    const ws = new WebSocket(url);
    const client = new SignalingClient(ws, deviceId);
    const hello = client.next('hello');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    await hello;
    return client;
  }

  get hello(): Of<'hello'> {
    return this.received.find((message): message is Of<'hello'> => message.type === 'hello')!;
  }

  send(message: ClientMessage): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /**
   * The first message of `type` (matching `where`) not yet consumed, waiting up to `timeoutMs`.
   * Messages already received count, so a test cannot miss one that arrived early.
   */
  next<T extends ServerMessage['type']>(type: T, where: (message: Of<T>) => boolean = () => true, timeoutMs = 10_000): Promise<Of<T>> {
    return this.waitFor((message) => message.type === type && where(message as Of<T>), type, timeoutMs) as Promise<Of<T>>;
  }

  /** Sends a request with a ref and resolves with its ack or error. */
  async request(message: ClientMessage, timeoutMs = 10_000): Promise<Of<'ack'> | Of<'error'>> {
    const ref = message.ref ?? crypto.randomUUID().slice(0, 8);
    const reply = this.waitFor(
      (m) => (m.type === 'ack' || m.type === 'error') && m.ref === ref,
      `reply to ${message.type}`,
      timeoutMs,
    ) as Promise<Of<'ack'> | Of<'error'>>;
    this.send({ ...message, ref });
    return reply;
  }

  private waitFor(match: (message: ServerMessage) => boolean, what: string, timeoutMs: number): Promise<ServerMessage> {
    const seen = this.received.find((message) => match(message) && !this.consumed.has(message));
    if (seen) {
      this.consumed.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
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
  all<T extends ServerMessage['type']>(type: T): Of<T>[] {
    return this.received.filter((message): message is Of<T> => message.type === type);
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

/** Devices a test file opens through the shared edge, all closed by `closeAll` (call it in `after`). */
export function devicePool(baseUrl: () => string, signIn: (user: TestUser) => Promise<{ accessToken: string }>) {
  const open: SignalingClient[] = [];
  return {
    async device(user: TestUser, deviceId?: string): Promise<SignalingClient> {
      const client = await SignalingClient.connect(baseUrl(), (await signIn(user)).accessToken, deviceId);
      open.push(client);
      return client;
    },
    closeAll: () => Promise.all(open.map((client) => client.close())),
  };
}
