/** Room requests over the signaling socket, each answered by the reply carrying its `ref`. */
import type { ClientMessage } from '@callstack/protocol';
import type { AckMessage, RoomMessage, SignalingClient } from '../signaling.ts';
import { RoomRequestError } from './errors.ts';

/** A request the edge has not answered by then failed (the edge gives up on a node after 5 s, 12 s for recording). */
export const REQUEST_TIMEOUT_MS = 15_000;

type RoomRequest = Extract<ClientMessage, { type: `room.${string}` }>;
/** A room request without `ref` (the tracker adds it). */
export type RoomRequestInput = RoomRequest extends infer M ? (M extends RoomRequest ? Omit<M, 'ref'> : never) : never;
type ReplyType = Extract<RoomMessage, { ref?: string }>['type'] | 'ack';
type Reply<T extends ReplyType> = T extends 'ack' ? AckMessage : Extract<RoomMessage, { type: T }>;

export type RoomSignaling = Pick<SignalingClient, 'on' | 'send' | 'status'>;

interface Pending {
  expect: ReplyType;
  resolve: (message: RoomMessage | AckMessage) => void;
  reject: (error: RoomRequestError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Room requests by `ref`: each resolves with its reply (or `ack`) and rejects with the edge's typed
 * `error`, on timeout, or when the socket drops (the edge forgets a device whose socket closed).
 */
export class RoomRequests {
  private readonly pending = new Map<string, Pending>();
  private count = 0;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly signaling: RoomSignaling,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    this.unsubscribe = [
      signaling.on('room', (message) => 'ref' in message && message.ref !== undefined && this.settle(message.ref, message)),
      signaling.on('ack', (message) => this.settle(message.ref, message)),
      signaling.on('error', (message) => {
        if (message.ref !== undefined) this.fail(message.ref, new RoomRequestError(message.code, message.message));
      }),
      signaling.on('status', (status) => {
        if (status !== 'online') this.failAll(new RoomRequestError('offline', 'The connection to the server dropped.'));
      }),
    ];
  }

  send<T extends ReplyType>(message: RoomRequestInput, expect: T): Promise<Reply<T>> {
    // Prefixed: call refs share the socket and must never match a room request.
    const ref = `room-${++this.count}`;
    return new Promise<Reply<T>>((resolve, reject) => {
      if (!this.signaling.send({ ...message, ref } as RoomRequest)) {
        reject(new RoomRequestError('offline', 'You’re offline. Try again once reconnected.'));
        return;
      }
      const timer = setTimeout(() => this.fail(ref, new RoomRequestError('timeout', 'The server did not answer in time.')), this.timeoutMs);
      this.pending.set(ref, { expect, resolve: resolve as (message: RoomMessage | AckMessage) => void, reject, timer });
    });
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
    this.failAll(new RoomRequestError('offline', 'closed'));
  }

  private settle(ref: string, message: RoomMessage | AckMessage): void {
    const pending = this.pending.get(ref);
    if (!pending) return;
    this.pending.delete(ref);
    clearTimeout(pending.timer);
    if (pending.expect === message.type) pending.resolve(message);
    else pending.reject(new RoomRequestError('internal', `expected ${pending.expect}, got ${message.type}`));
  }

  private fail(ref: string, error: RoomRequestError): void {
    const pending = this.pending.get(ref);
    if (!pending) return;
    this.pending.delete(ref);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  private failAll(error: RoomRequestError): void {
    for (const ref of [...this.pending.keys()]) this.fail(ref, error);
  }
}

/** Creates a room; resolves with its id (the link is `/rooms/<id>`). */
export async function createRoom(signaling: RoomSignaling): Promise<string> {
  const requests = new RoomRequests(signaling);
  try {
    return (await requests.send({ type: 'room.create' }, 'room.created')).roomId;
  } finally {
    requests.dispose();
  }
}
