/**
 * What the signaling and presence clients share: a WebSocket to an `/api/…` path authenticated by
 * `?ticket=&device=` (a single-use ticket minted for each attempt, never the access token), pings,
 * and reconnects with backoff after an unexpected close.
 */
import { CloseCode, Emitter, type ParseResult } from '@callstack/protocol';

export const PING_INTERVAL_MS = 25_000;

/**
 * `online` starts when the subclass says the edge is ready (`hello`, the first snapshot part).
 * `replaced` and `signed-out` are final: no reconnect.
 */
export type SocketStatus = 'connecting' | 'online' | 'replaced' | 'signed-out';

/**
 * Delay before reconnect attempt `attempt` (0-based): 0, 300, 1200, 2700, 4800 ms, then every 7 s,
 * each ±25 % so that devices dropped together by an edge restart don't come back in lockstep.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = attempt < 5 ? 300 * attempt ** 2 : 7000;
  return Math.round(base * (0.75 + 0.5 * random()));
}

export interface SocketOptions {
  deviceId: string;
  /** A fresh single-use socket ticket for the next connection attempt. */
  ticket: () => Promise<string>;
}

export abstract class ReconnectingSocket<
  In,
  Out,
  Events extends { [K in keyof Events]: unknown[] } & { status: [status: SocketStatus] },
> extends Emitter<Events> {
  status: SocketStatus = 'connecting';
  private socket: WebSocket | null = null;
  private attempt = 0;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  /** Nothing received since the last ping. */
  private silent = false;

  constructor(
    private readonly path: string,
    private readonly parse: (raw: string | ArrayBuffer) => ParseResult<In>,
    private readonly options: SocketOptions,
  ) {
    super();
  }

  /** Handles one valid frame. */
  protected abstract receive(message: In): void;
  protected abstract ping(): Out;

  start(): void {
    this.stopped = false;
    void this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.drop(1000);
  }

  /** Sends when online; false tells the caller the frame was not sent. */
  send(message: Out): boolean {
    if (this.status !== 'online' || !this.socket) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** The edge is ready on this connection: resets the backoff and starts pinging. */
  protected ready(): void {
    this.attempt = 0;
    this.setStatus('online');
    this.startPings();
  }

  private async open(): Promise<void> {
    this.setStatus('connecting');
    let ticket: string;
    try {
      ticket = await this.options.ticket();
    } catch {
      // Unreachable edge: try again later. A revoked session signs the app out, which stops us.
      this.retry();
      return;
    }
    if (this.stopped) return;
    const url = new URL(this.path, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = new URLSearchParams({ ticket, device: this.options.deviceId }).toString();
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => this.frame(event.data);
    socket.onclose = (event) => {
      this.socket = null;
      clearInterval(this.pingTimer);
      if (event.code === CloseCode.replaced) this.setStatus('replaced');
      else if (event.code === CloseCode.disconnected) this.setStatus('signed-out');
      else this.retry();
    };
    this.socket = socket;
  }

  private frame(data: string | ArrayBuffer): void {
    this.silent = false;
    const parsed = this.parse(data);
    if (parsed.ok) this.receive(parsed.message);
    else console.warn(`${this.path}: dropped invalid frame (${parsed.message})`);
  }

  private startPings(): void {
    clearInterval(this.pingTimer);
    this.silent = false;
    this.pingTimer = setInterval(() => {
      if (this.silent) {
        // No pong for a whole interval: the socket is dead even if the browser hasn't noticed yet.
        this.drop(CloseCode.deadConnection);
        this.retry();
        return;
      }
      this.silent = true;
      this.send(this.ping());
    }, PING_INTERVAL_MS);
  }

  private retry(): void {
    if (this.stopped) return;
    this.setStatus('connecting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.open(), reconnectDelay(this.attempt++));
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

  private setStatus(status: SocketStatus): void {
    if (status === this.status) return;
    this.status = status;
    // The subclass's event map always has `status: [SocketStatus]`.
    (this.emit as (event: 'status', status: SocketStatus) => void)('status', status);
  }
}
