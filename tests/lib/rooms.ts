/** Room requests for the integration tests (rooms, recordings): replies by `ref`, typed. */
import type { ServerMessage } from '@callstack/protocol';
import type { SignalingClient } from './SignalingClient.ts';

export type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A request whose reply is a data message (not `ack`); fails the test on an `error`. */
export async function ask<T extends ServerMessage['type']>(client: SignalingClient, type: T, message: Parameters<SignalingClient['send']>[0]): Promise<Of<T>> {
  const ref = crypto.randomUUID().slice(0, 8);
  const reply = client.next(type, (m) => 'ref' in m && m.ref === ref, 15_000);
  const failed = client.next('error', (m) => m.ref === ref, 15_000).then((error) => {
    throw new Error(`${message.type} failed: ${error.code}: ${error.message}`);
  });
  failed.catch(() => {});
  client.send({ ...message, ref });
  return Promise.race([reply, failed]);
}

export async function createRoom(client: SignalingClient): Promise<string> {
  return (await ask(client, 'room.created', { type: 'room.create' })).roomId;
}

export function join(client: SignalingClient, roomId: string) {
  return ask(client, 'room.joined', { type: 'room.join', roomId });
}
