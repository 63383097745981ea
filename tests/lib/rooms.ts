/** Room requests for the integration tests (rooms, recordings): replies by `ref`, typed. */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { ServerMessage } from '@callstack/protocol';
import { sendClip, type RtpClip } from '../../media-fleet/src/rtpClip.ts';
import type { SignalingClient } from './SignalingClient.ts';

export type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A request whose reply is a data message (not `ack`); fails the test on an `error`. */
export async function ask<T extends ServerMessage['type']>(client: SignalingClient, type: T, message: Parameters<SignalingClient['send']>[0]): Promise<Of<T>> {
  const ref = crypto.randomUUID().slice(0, 8);
  const reply = client.next(type, (m) => 'ref' in m && m.ref === ref, 15_000);
  const failed = client
    .next('error', (m) => m.ref === ref, 15_000)
    .then((error) => {
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

/**
 * Publishes mic audio (opus) or camera video (VP8) over a plain transport (the node runs with
 * MEDIA_PLAIN_TRANSPORTS=true); returns what sends a clip to it. The UDP socket goes to `sockets`
 * (close them in `after`).
 */
export async function producePlain(client: SignalingClient, roomId: string, kind: 'audio' | 'video', ssrc: number, sockets: Socket[]) {
  const { transport } = await ask(client, 'room.transport.created', { type: 'room.transport.create', roomId, direction: 'send', transport: 'plain' });
  if (transport.transport !== 'plain') assert.fail('plain transport expected');
  const codec =
    kind === 'audio'
      ? { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }
      : { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 };
  await ask(client, 'room.produced', {
    type: 'room.produce',
    roomId,
    transportId: transport.transportId,
    kind,
    source: kind === 'audio' ? 'mic' : 'camera',
    paused: false,
    rtpParameters: { codecs: [codec], encodings: [{ ssrc }] },
  });
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return (clip: RtpClip) => sendClip(clip, socket, transport, { ssrc, payloadType: codec.payloadType });
}
