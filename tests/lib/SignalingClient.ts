/**
 * A signaling device for tests and benchmarks: a real WebSocket to `/api/signaling` (see
 * SocketClient), plus request/ack, and the pool of devices and presence watchers a test opens.
 */
import { parseServerMessage, type ClientMessage, type ServerMessage } from '@callstack/protocol';
import { WebSocket } from 'ws';
import type { TestUser } from './fixtures.ts';
import { PresenceClient } from './PresenceClient.ts';
import { SocketClient, socketUrl } from './SocketClient.ts';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export class SignalingClient extends SocketClient<ServerMessage, ClientMessage> {
  static async connect(baseUrl: string, token: string, deviceId: string = crypto.randomUUID()): Promise<SignalingClient> {
    const ws = new WebSocket(await socketUrl(baseUrl, '/api/signaling', token, deviceId));
    const client = new SignalingClient(ws, deviceId, parseServerMessage);
    const hello = client.next('hello');
    await SocketClient.opened(ws);
    await hello;
    return client;
  }

  get hello(): Of<'hello'> {
    return this.received.find((message): message is Of<'hello'> => message.type === 'hello')!;
  }

  /** Sends a request with a ref and resolves with its ack or error. */
  async request(message: ClientMessage, timeoutMs = 10_000): Promise<Of<'ack'> | Of<'error'>> {
    const ref = message.ref ?? crypto.randomUUID().slice(0, 8);
    const reply = this.waitFor((m) => (m.type === 'ack' || m.type === 'error') && m.ref === ref, `reply to ${message.type}`, timeoutMs) as Promise<
      Of<'ack'> | Of<'error'>
    >;
    this.send({ ...message, ref });
    return reply;
  }

  /** Sends a request with a ref and resolves with its reply of `type` (in place of `ack`) or its error. */
  async reply<T extends ServerMessage['type']>(message: ClientMessage, type: T, timeoutMs = 10_000): Promise<Of<T> | Of<'error'>> {
    const ref = message.ref ?? crypto.randomUUID().slice(0, 8);
    const reply = this.waitFor((m) => (m.type === type || m.type === 'error') && 'ref' in m && m.ref === ref, `${type} reply to ${message.type}`, timeoutMs);
    this.send({ ...message, ref });
    return reply as Promise<Of<T> | Of<'error'>>;
  }
}

/** Devices and watchers a test file opens through the shared edge, all closed by `closeAll` (call it in `after`). */
export function devicePool(baseUrl: () => string, signIn: (user: TestUser) => Promise<{ accessToken: string }>) {
  const open: { close(): Promise<void> }[] = [];
  return {
    async device(user: TestUser, deviceId?: string): Promise<SignalingClient> {
      const client = await SignalingClient.connect(baseUrl(), (await signIn(user)).accessToken, deviceId);
      open.push(client);
      return client;
    },
    async watcher(user: TestUser, deviceId?: string): Promise<PresenceClient> {
      const client = await PresenceClient.connect(baseUrl(), (await signIn(user)).accessToken, deviceId);
      open.push(client);
      return client;
    },
    closeAll: () => Promise.all(open.map((client) => client.close())),
  };
}
