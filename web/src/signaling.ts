/**
 * WebSocket client for `/api/signaling`: validates every frame with the protocol schemas, keeps the
 * connection alive with pings and reconnects with backoff after an unexpected close.
 */
import { assertNever, parseServerMessage, type ClientMessage, type ServerMessage } from '@callstack/protocol';
import { Emitter } from './emitter.ts';

export const PING_INTERVAL_MS = 25_000;
/** Close code the edge uses when a newer connection of the same device replaced this one. */
const REPLACED_CLOSE_CODE = 4001;
const DEAD_CONNECTION_CLOSE_CODE = 4000;
const DEVICE_ID_KEY = 'callstack.deviceId';

export type HelloMessage = Extract<ServerMessage, { type: 'hello' }>;
export type CallMessage = Extract<ServerMessage, { type: `call.${string}` }>;
export type SignalingErrorMessage = Extract<ServerMessage, { type: 'error' }>;
export type PresenceSelfMessage = Extract<ServerMessage, { type: 'presence.self' }>;
/** Conference room messages (protocol/src/rooms.ts), for the room UI to subscribe to. */
export type RoomMessage = Extract<ServerMessage, { type: `room.${string}` }>;
/** `online` starts at the edge's `hello`; `replaced` is final (no reconnect). */
export type SignalingStatus = 'connecting' | 'online' | 'replaced';

/**
 * Delay before reconnect attempt `attempt` (0-based): 0, 300, 1200, 2700, 4800 ms, then every 7 s,
 * each ±25 % so that devices dropped together by an edge restart don't come back in lockstep.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = attempt < 5 ? 300 * attempt ** 2 : 7000;
  return Math.round(base * (0.75 + 0.5 * random()));
}

/** Random per tab (sessionStorage), so each tab is its own device and can ring on its own. */
export function tabDeviceId(): string {
  let id = sessionStorage.getItem(DEVICE_ID_KEY);
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem(DEVICE_ID_KEY, id);
  }
  return id;
}

export interface SignalingOptions {
  deviceId: string;
  /** Access token for the next connection; `renew` forces a fresh one. */
  accessToken: (renew: boolean) => Promise<string>;
}

export type SignalingEvents = {
  status: SignalingStatus;
  hello: HelloMessage;
  call: CallMessage;
  error: SignalingErrorMessage;
  presence: PresenceSelfMessage;
  room: RoomMessage;
};

export class SignalingClient extends Emitter<SignalingEvents> {
  status: SignalingStatus = 'connecting';
  private socket: WebSocket | null = null;
  private attempt = 0;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  /** Nothing received since the last ping. */
  private silent = false;

  constructor(private readonly options: SignalingOptions) {
    super();
  }

  start(): void {
    this.stopped = false;
    void this.open(false);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.drop(1000);
  }

  /** Sends when online; false tells the caller the frame was not sent. */
  send(message: ClientMessage): boolean {
    if (this.status !== 'online' || !this.socket) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private async open(renewToken: boolean): Promise<void> {
    this.setStatus('connecting');
    let token: string;
    try {
      token = await this.options.accessToken(renewToken);
    } catch {
      // Unreachable edge: try again later. A revoked session signs the app out, which stops us.
      this.retry();
      return;
    }
    if (this.stopped) return;
    const url = new URL('/api/signaling', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = new URLSearchParams({ token, device: this.options.deviceId }).toString();
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => this.receive(event.data);
    socket.onclose = (event) => {
      this.socket = null;
      clearInterval(this.pingTimer);
      if (event.code === REPLACED_CLOSE_CODE) this.setStatus('replaced');
      else this.retry();
    };
    this.socket = socket;
  }

  private receive(data: string | ArrayBuffer): void {
    this.silent = false;
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      console.warn(`signaling: dropped invalid frame (${parsed.message})`);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'hello':
        this.attempt = 0;
        this.setStatus('online');
        this.startPings();
        this.emit('hello', message);
        break;
      case 'call.incoming':
      case 'call.ringing':
      case 'call.accepted':
      case 'call.ended':
      case 'call.offer':
      case 'call.answer':
      case 'call.ice':
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
        this.emit('room', message);
        break;
      case 'ack':
      case 'pong':
        // Success needs no handling; any frame already proved the connection alive.
        break;
      default:
        assertNever(message);
    }
  }

  private startPings(): void {
    clearInterval(this.pingTimer);
    this.silent = false;
    this.pingTimer = setInterval(() => {
      if (this.silent) {
        // No pong for a whole interval: the socket is dead even if the browser hasn't noticed yet.
        this.drop(DEAD_CONNECTION_CLOSE_CODE);
        this.retry();
        return;
      }
      this.silent = true;
      this.send({ type: 'ping' });
    }, PING_INTERVAL_MS);
  }

  private retry(): void {
    if (this.stopped) return;
    this.setStatus('connecting');
    // After a failed attempt, renew the token: a browser can't see why an upgrade was refused, and
    // a stale token is the one cause we can fix. The first retry after a working connection reuses it.
    const renewToken = this.attempt > 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.open(renewToken), reconnectDelay(this.attempt++));
  }

  /** Closes the socket without triggering the reconnect logic of its close handler. */
  private drop(code: number): void {
    clearInterval(this.pingTimer);
    if (!this.socket) return;
    this.socket.onclose = null;
    this.socket.onmessage = null;
    this.socket.close(code);
    this.socket = null;
  }

  private setStatus(status: SignalingStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.emit('status', status);
  }
}
