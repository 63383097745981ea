/**
 * A presence watcher for tests and benchmarks: a real WebSocket to `/api/presence` (see
 * SocketClient) that keeps the tenant's statuses as the snapshot and updates tell them.
 */
import { parsePresenceServerMessage, type PresenceClientMessage, type PresenceServerMessage, type PresenceStatus } from '@callstack/protocol';
import { WebSocket } from 'ws';
import { SocketClient, socketUrl } from './SocketClient.ts';

interface StatusWaiter {
  userId: string;
  status: PresenceStatus;
  resolve: () => void;
}

export class PresenceClient extends SocketClient<PresenceServerMessage, PresenceClientMessage> {
  private readonly statuses = new Map<string, { status: PresenceStatus; since: number }>();
  private readonly statusWaiters = new Set<StatusWaiter>();

  /** Connects and waits for the whole snapshot. */
  static async connect(baseUrl: string, token: string, deviceId: string = crypto.randomUUID()): Promise<PresenceClient> {
    const ws = new WebSocket(await socketUrl(baseUrl, '/api/presence', token, deviceId));
    const client = new PresenceClient(ws, deviceId, parsePresenceServerMessage);
    const snapshot = client.next('presence.snapshot', (message) => !message.more);
    await SocketClient.opened(ws);
    await snapshot;
    return client;
  }

  /** Every change of `userId` that updates brought so far, oldest first. */
  updatesOf(userId: string): { userId: string; status: PresenceStatus; since: number }[] {
    return this.received.flatMap((message) => (message.type === 'presence.updates' ? message.users.filter((entry) => entry.userId === userId) : []));
  }

  /** A user's status as this watcher knows it: absent means offline. */
  statusOf(userId: string): PresenceStatus {
    return this.statuses.get(userId)?.status ?? 'offline';
  }

  /** Resolves once `userId` is `status` here (at once if it already is). */
  waitForStatus(userId: string, status: PresenceStatus, timeoutMs = 10_000): Promise<void> {
    if (this.statusOf(userId) === status) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: StatusWaiter = {
        userId,
        status,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.statusWaiters.delete(waiter);
        reject(new Error(`${userId} not ${status} within ${timeoutMs} ms on watcher ${this.deviceId}; is ${this.statusOf(userId)}`));
      }, timeoutMs);
      this.statusWaiters.add(waiter);
    });
  }

  protected override observe(message: PresenceServerMessage): void {
    if (message.type === 'presence.snapshot') {
      for (const { userId, status, since } of message.users) this.remember(userId, status, since);
    } else if (message.type === 'presence.updates') {
      for (const { userId, status, since } of message.users) this.remember(userId, status, since);
    }
  }

  private remember(userId: string, status: PresenceStatus, since: number): void {
    const known = this.statuses.get(userId);
    if (known && known.since >= since) return;
    this.statuses.set(userId, { status, since });
    for (const waiter of this.statusWaiters) {
      if (waiter.userId === userId && waiter.status === status) {
        this.statusWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
