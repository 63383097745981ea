/**
 * What the edge's WebSocket objects (UserHub, PresenceShard) do alike with their sockets: a typed
 * attachment per socket (kept across hibernation), a rate limit per socket, parsing each frame,
 * and answering anything wrong with a typed `error` frame while keeping the socket open.
 */
import { ErrorCode, type ParseResult } from '@callstack/protocol';
import { TokenBucket } from './TokenBucket.ts';

/**
 * The typed state an object keeps on each of its sockets (`serializeAttachment`). One per object
 * class: the one place where the runtime's untyped attachment becomes `T`.
 */
export class SocketAttachment<T extends object> {
  read(ws: WebSocket): T | null {
    return (ws.deserializeAttachment() as T | null | undefined) ?? null;
  }

  write(ws: WebSocket, value: T): void {
    ws.serializeAttachment(value);
  }
}

/** One token bucket per socket, in memory: a socket whose object was evicted starts with a full one. */
export class SocketRateLimiter {
  private readonly buckets = new WeakMap<WebSocket, TokenBucket>();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {}

  take(ws: WebSocket): boolean {
    let bucket = this.buckets.get(ws);
    if (!bucket) {
      bucket = new TokenBucket(this.burst, this.perSecond);
      this.buckets.set(ws, bucket);
    }
    return bucket.take();
  }
}

/** Sends a message; false when the socket is closing (its close handler deals with that). */
export function trySend(ws: WebSocket, message: unknown): boolean {
  try {
    ws.send(JSON.stringify(message));
    return true;
  } catch {
    return false;
  }
}

/** The parsed message, or null after answering the sender with a typed error. */
export function admitFrame<T>(
  ws: WebSocket,
  raw: string | ArrayBuffer,
  limiter: SocketRateLimiter,
  parse: (raw: string | ArrayBuffer) => ParseResult<T>,
): T | null {
  if (!limiter.take(ws)) {
    trySend(ws, { type: 'error', code: ErrorCode.rateLimited, message: 'too many messages, slow down' });
    return null;
  }
  const parsed = parse(raw);
  if (!parsed.ok) {
    trySend(ws, { type: 'error', code: parsed.code, message: parsed.message });
    return null;
  }
  return parsed.message;
}
