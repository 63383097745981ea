/**
 * WebSocket client for `/api/signaling`: validates every frame with the protocol schemas; pings
 * and reconnects as every app socket does (socket.ts).
 */
import { assertNever, parseServerMessage, type ClientMessage, type ServerMessage } from '@callstack/protocol';
import { ReconnectingSocket, type SocketOptions, type SocketStatus } from './socket.ts';

const DEVICE_ID_KEY = 'callstack.deviceId';

export type HelloMessage = Extract<ServerMessage, { type: 'hello' }>;
export type CallMessage = Extract<ServerMessage, { type: `call.${string}` }>;
export type SignalingErrorMessage = Extract<ServerMessage, { type: 'error' }>;
export type AckMessage = Extract<ServerMessage, { type: 'ack' }>;
export type PresenceSelfMessage = Extract<ServerMessage, { type: 'presence.self' }>;
/** The edge's rating of this device's last `quality.report` (quality.ts). */
export type QualityUpdateMessage = Extract<ServerMessage, { type: 'quality.update' }>;
/** Conference room messages (protocol/src/rooms.ts), for the room UI to subscribe to. */
export type RoomMessage = Extract<ServerMessage, { type: `room.${string}` }>;
/** `online` starts at the edge's `hello`. */
export type SignalingStatus = SocketStatus;

/** Random per tab (sessionStorage), so each tab is its own device and can ring on its own. */
export function tabDeviceId(): string {
  let id = sessionStorage.getItem(DEVICE_ID_KEY);
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem(DEVICE_ID_KEY, id);
  }
  return id;
}

export type SignalingEvents = {
  status: [status: SignalingStatus];
  hello: [message: HelloMessage];
  call: [message: CallMessage];
  error: [message: SignalingErrorMessage];
  /** Success of a request that returns no data (rooms wait for it; calls need not). */
  ack: [message: AckMessage];
  presence: [message: PresenceSelfMessage];
  room: [message: RoomMessage];
  quality: [message: QualityUpdateMessage];
};

export class SignalingClient extends ReconnectingSocket<ServerMessage, ClientMessage, SignalingEvents> {
  constructor(options: SocketOptions) {
    super('/api/signaling', parseServerMessage, options);
  }

  protected override ping(): ClientMessage {
    return { type: 'ping' };
  }

  protected override receive(message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        this.ready();
        this.emit('hello', message);
        break;
      case 'call.incoming':
      case 'call.ringing':
      case 'call.accepted':
      case 'call.ended':
      case 'call.offer':
      case 'call.answer':
      case 'call.ice':
      case 'call.mute':
        this.emit('call', message);
        break;
      case 'error':
        this.emit('error', message);
        break;
      case 'presence.self':
        this.emit('presence', message);
        break;
      case 'room.created':
      case 'room.joined':
      case 'room.transport.created':
      case 'room.produced':
      case 'room.consumed':
      case 'room.participant.joined':
      case 'room.participant.left':
      case 'room.producer.new':
      case 'room.producer.paused':
      case 'room.producer.closed':
      case 'room.speaker':
      case 'room.migrate':
      case 'room.recording':
        this.emit('room', message);
        break;
      case 'quality.update':
        this.emit('quality', message);
        break;
      case 'ack':
        this.emit('ack', message);
        break;
      case 'pong':
        // Success needs no handling; any frame already proved the connection alive.
        break;
      default:
        assertNever(message);
    }
  }
}
