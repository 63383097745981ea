/**
 * One of a tenant's `PRESENCE_SHARDS` presence objects, named `<tenantId>:<n>`. It keeps the whole
 * tenant's statuses in SQLite and a share of the tenant's watcher sockets (Hibernation API, tagged
 * with the watcher's user id). A hub whose user changes status publishes to every shard of its
 * tenant; each shard broadcasts to its own sockets and makes no further calls.
 */
import {
  assertNever,
  parsePresenceClientMessage,
  PRESENCE_SNAPSHOT_PART,
  type PresenceEntry,
  type PresenceServerMessage,
  type PresenceStatus,
} from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import type { Actor } from '../objects/actor.ts';
import { readIdentity } from '../objects/identity.ts';
import { admitFrame, SocketAttachment, SocketRateLimiter, trySend } from '../objects/sockets.ts';

/**
 * Changes are sent to the watchers this long after the first of them arrived, together: a burst
 * of changes costs each watcher a few frames (and the shard a few sends per watcher), not one per
 * change. Short against what a person notices.
 */
export const PRESENCE_BATCH_MS = 20;

/** Watchers only ping; a flood is answered with an error, like on the signaling socket. */
const RATE_BURST = 20;
const RATE_PER_SECOND = 5;

type Watcher = Actor;

const watchers = new SocketAttachment<Watcher>();

export class PresenceShard extends DurableObject<Env> {
  private readonly limiter = new SocketRateLimiter(RATE_BURST, RATE_PER_SECOND);
  /**
   * Stored changes not sent yet, the latest per user. Only in memory: the pending timer keeps the
   * object in memory until they are sent, and if the runtime dies first, so do the sockets, and
   * every watcher's reconnect brings a fresh snapshot.
   */
  private readonly unsent = new Map<string, PresenceEntry>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Offline users keep their row (with its `since`) so a late, older update cannot revive them.
    ctx.storage.sql.exec(`create table if not exists presence (user_id text primary key, status text not null, since integer not null)`);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** The Worker forwards an authenticated upgrade here, with the watcher's identity in trusted headers. */
  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request.headers);
    if (!identity || request.headers.get('Upgrade') !== 'websocket') {
      return new Response('expected an authenticated WebSocket upgrade', { status: 400 });
    }
    const watcher: Watcher = { tenantId: identity.tenantId, userId: identity.userId, deviceId: identity.deviceId };
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [watcher.userId]);
    watchers.write(server, watcher);
    // No await between accepting and reading the snapshot: no update can fall in between.
    const users = this.ctx.storage.sql
      .exec<{ user_id: string; status: PresenceStatus; since: number }>(
        `select user_id, status, since from presence where status != 'offline' order by user_id`,
      )
      .toArray()
      .map((row): PresenceEntry => ({ userId: row.user_id, status: row.status, since: row.since }));
    for (let start = 0; start === 0 || start < users.length; start += PRESENCE_SNAPSHOT_PART) {
      const part = users.slice(start, start + PRESENCE_SNAPSHOT_PART);
      this.send(server, { type: 'presence.snapshot', users: part, more: start + PRESENCE_SNAPSHOT_PART < users.length });
    }
    log.info('watcher.connected', { ...watcher, users: users.length });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const message = admitFrame(ws, raw, this.limiter, parsePresenceClientMessage);
    if (!message) return;
    switch (message.type) {
      case 'ping':
        this.send(ws, { type: 'pong', ref: message.ref });
        return;
      default:
        assertNever(message.type);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    log.info('watcher.disconnected', { ...watchers.read(ws), code });
  }

  // ---- called by UserHub -------------------------------------------------------------------

  /** Records a user's new status and tells every watcher of this shard soon (PRESENCE_BATCH_MS), unless it is not newer. */
  publish(entry: PresenceEntry): void {
    const changed = this.ctx.storage.sql.exec(
      `insert into presence (user_id, status, since) values (?, ?, ?)
       on conflict (user_id) do update set status = excluded.status, since = excluded.since
       where excluded.since > presence.since`,
      entry.userId,
      entry.status,
      entry.since,
    ).rowsWritten;
    if (changed === 0) return;
    this.unsent.set(entry.userId, entry);
    this.flushTimer ??= setTimeout(() => this.flush(), PRESENCE_BATCH_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const users = [...this.unsent.values()];
    this.unsent.clear();
    const sockets = this.ctx.getWebSockets();
    for (let start = 0; start < users.length; start += PRESENCE_SNAPSHOT_PART) {
      const frame = JSON.stringify({ type: 'presence.updates', users: users.slice(start, start + PRESENCE_SNAPSHOT_PART) } satisfies PresenceServerMessage);
      for (const ws of sockets) {
        try {
          ws.send(frame);
        } catch {
          // a closing socket: its watcher reconnects and gets a fresh snapshot
        }
      }
    }
  }

  /** Closes every watcher socket of one user (deactivation, "log out everywhere"). */
  closeUser(userId: string, code: number, reason: string): number {
    const sockets = this.ctx.getWebSockets(userId);
    for (const ws of sockets) ws.close(code, reason);
    return sockets.length;
  }

  private send(ws: WebSocket, message: PresenceServerMessage): void {
    trySend(ws, message);
  }
}
