/**
 * One Durable Object per user, named `<tenantId>:<userId>`: every signaling WebSocket of that
 * user's devices (tabs, phones) lands here, tagged with its device id. It rings all devices,
 * routes a device's call messages to the call's CallSession, and remembers which calls the user
 * is in (for busy and for resuming after a reconnect).
 *
 * Sockets use the Hibernation API: the hub may be evicted between messages; identity lives in
 * each socket's attachment and the call list in the hub's SQLite storage.
 */
import {
  assertNever,
  ErrorCode,
  parseClientMessage,
  type CallMedia,
  type ClientMessage,
  type Party,
  type ServerMessage,
} from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { withDb } from '../db/client.ts';
import { findActiveUser } from '../db/users.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { TokenBucket } from './TokenBucket.ts';
import { callSession, userHub } from './stubs.ts';
import { failure, type Actor, type DeviceSelector, type Outcome, type RingOutcome } from './types.ts';

/** Identity of a socket, proven by the Worker before the upgrade and kept across hibernation. */
export interface DeviceIdentity extends Actor {
  displayName: string;
}

/** Close code telling a client that a newer connection of the same device took over. */
export const CLOSE_REPLACED = 4001;

/** A device may send bursts of ICE candidates; sustained floods are dropped with an error. */
const RATE_BURST = 60;
const RATE_PER_SECOND = 30;

type TrackedStatus = 'ringing' | 'active';

export class UserHub extends DurableObject<Env> {
  private readonly buckets = new WeakMap<WebSocket, TokenBucket>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `create table if not exists calls (call_id text primary key, status text not null, tenant_id text not null)`,
    );
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** The Worker forwards an authenticated upgrade here; identity arrives in trusted headers. */
  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request.headers);
    if (!identity || request.headers.get('Upgrade') !== 'websocket') {
      return new Response('expected an authenticated WebSocket upgrade', { status: 400 });
    }
    for (const previous of this.ctx.getWebSockets(identity.deviceId)) {
      previous.close(CLOSE_REPLACED, 'replaced by a newer connection');
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [identity.deviceId]);
    server.serializeAttachment(identity);

    const activeCalls = await this.liveCalls();
    this.send(server, { type: 'hello', userId: identity.userId, deviceId: identity.deviceId, activeCalls });
    // A device that comes back within the grace period keeps its call.
    await Promise.all(activeCalls.map(({ callId }) => callSession(this.env, identity.tenantId, callId).deviceBack(identity)));
    log.info('device.connected', ids(identity));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const device = ws.deserializeAttachment() as DeviceIdentity;
    if (!this.bucketOf(ws).take()) {
      this.send(ws, { type: 'error', code: ErrorCode.rateLimited, message: 'too many messages, slow down' });
      return;
    }
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      this.send(ws, { type: 'error', code: parsed.code, message: parsed.message });
      return;
    }
    const message = parsed.message;
    let outcome: Outcome;
    try {
      outcome = await this.handle(device, message);
    } catch (error) {
      log.error('signaling.failed', { ...ids(device), type: message.type }, error);
      const safe = error instanceof ApiError ? error : new ApiError(ErrorCode.internal, 'internal error');
      outcome = failure(safe.code, safe.message);
    }
    if (!outcome.ok) this.send(ws, { type: 'error', ref: message.ref, code: outcome.code, message: outcome.message });
    else if (message.ref !== undefined && message.type !== 'ping') this.send(ws, { type: 'ack', ref: message.ref });
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    await this.deviceGone(ws, code);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    log.warn('device.socket_error', ids(ws.deserializeAttachment() as DeviceIdentity), error);
    await this.deviceGone(ws, 1006);
  }

  // ---- called by CallSession ---------------------------------------------------------------

  /** Rings every device of this user, unless the user is in another call or has no device. */
  async ring(incoming: Extract<ServerMessage, { type: 'call.incoming' }>, tenantId: string): Promise<RingOutcome> {
    const busy = (await this.liveCalls()).some(({ callId }) => callId !== incoming.callId);
    if (busy) return 'busy';
    if (this.ctx.getWebSockets().length === 0) return 'unavailable';
    this.track(incoming.callId, 'ringing', tenantId);
    this.deliver(incoming, 'all');
    return 'ringing';
  }

  /** Sends a message to the selected devices; returns how many sockets took it. */
  deliver(message: ServerMessage, devices: DeviceSelector): number {
    const sockets =
      devices === 'all'
        ? this.ctx.getWebSockets()
        : 'only' in devices
          ? this.ctx.getWebSockets(devices.only)
          : this.ctx.getWebSockets().filter((ws) => !this.ctx.getTags(ws).includes(devices.except));
    let sent = 0;
    for (const ws of sockets) if (this.send(ws, message)) sent++;
    return sent;
  }

  track(callId: string, status: TrackedStatus, tenantId: string): void {
    this.ctx.storage.sql.exec(
      `insert into calls (call_id, status, tenant_id) values (?, ?, ?)
       on conflict (call_id) do update set status = excluded.status`,
      callId,
      status,
      tenantId,
    );
  }

  untrack(callId: string): void {
    this.ctx.storage.sql.exec('delete from calls where call_id = ?', callId);
  }

  // ---- internals ---------------------------------------------------------------------------

  private async handle(device: DeviceIdentity, message: ClientMessage): Promise<Outcome> {
    switch (message.type) {
      case 'ping':
        this.deliver({ type: 'pong', ref: message.ref }, { only: device.deviceId });
        return { ok: true };
      case 'call.invite':
        return this.invite(device, message.callId, message.to, message.media);
      case 'call.accept':
      case 'call.reject':
      case 'call.cancel':
      case 'call.hangup':
      case 'call.offer':
      case 'call.answer':
      case 'call.ice':
        return callSession(this.env, device.tenantId, message.callId).act(actorOf(device), message);
      default:
        return assertNever(message);
    }
  }

  private async invite(device: DeviceIdentity, callId: string, calleeId: string, media: CallMedia): Promise<Outcome> {
    if (calleeId === device.userId) return failure(ErrorCode.badRequest, 'you cannot call yourself');
    if ((await this.liveCalls()).length > 0) {
      return failure(ErrorCode.invalidState, 'you are already in a call');
    }
    const callee = await this.findCallee(device.tenantId, calleeId);
    if (!callee) return failure(ErrorCode.notFound, 'no such user in your organisation');

    // Marked before the callee rings, so a simultaneous incoming call finds this user busy.
    this.track(callId, 'ringing', device.tenantId);
    const started = await callSession(this.env, device.tenantId, callId).start({
      callId,
      tenantId: device.tenantId,
      caller: { userId: device.userId, displayName: device.displayName, deviceId: device.deviceId },
      callee,
      media,
    });
    if (!started.ok) this.untrack(callId);
    return started;
  }

  /**
   * Who this hub's user is, as proven by the tokens its connected devices signed in with; null
   * when no device is connected. The hub's name fixes tenant and user, so this needs no lookup.
   */
  identify(): Party | null {
    const [socket] = this.ctx.getWebSockets();
    if (!socket) return null;
    const { userId, displayName } = socket.deserializeAttachment() as DeviceIdentity;
    return { userId, displayName };
  }

  /** The callee, from its hub when online (no database on the hot path), else from Postgres. */
  private async findCallee(tenantId: string, calleeId: string): Promise<Party | null> {
    const online = await userHub(this.env, tenantId, calleeId).identify();
    if (online) return online;
    const user = await withDb(this.env, (db) => findActiveUser(db, tenantId, calleeId));
    return user ? { userId: user.id, displayName: user.displayName } : null;
  }

  /** Calls this user is in, dropping entries whose session has ended (a missed untrack). */
  private async liveCalls(): Promise<{ callId: string; state: TrackedStatus }[]> {
    const rows = this.ctx.storage.sql
      .exec<{ call_id: string; status: TrackedStatus; tenant_id: string }>('select call_id, status, tenant_id from calls')
      .toArray();
    const checked = await Promise.all(
      rows.map(async (row) => ({ row, live: await callSession(this.env, row.tenant_id, row.call_id).isLive() })),
    );
    for (const { row, live } of checked) if (!live) this.untrack(row.call_id);
    return checked.filter(({ live }) => live).map(({ row }) => ({ callId: row.call_id, state: row.status }));
  }

  private async deviceGone(ws: WebSocket, code: number): Promise<void> {
    const device = ws.deserializeAttachment() as DeviceIdentity | null;
    if (!device) return;
    log.info('device.disconnected', { ...ids(device), code });
    if (code === CLOSE_REPLACED) return;
    const calls = this.ctx.storage.sql.exec<{ call_id: string }>('select call_id from calls').toArray();
    await Promise.all(calls.map((row) => callSession(this.env, device.tenantId, row.call_id).deviceLost(actorOf(device))));
  }

  private send(ws: WebSocket, message: ServerMessage): boolean {
    try {
      ws.send(JSON.stringify(message));
      return true;
    } catch {
      return false; // closing socket: its close handler deals with the consequences
    }
  }

  private bucketOf(ws: WebSocket): TokenBucket {
    let bucket = this.buckets.get(ws);
    if (!bucket) {
      bucket = new TokenBucket(RATE_BURST, RATE_PER_SECOND);
      this.buckets.set(ws, bucket);
    }
    return bucket;
  }
}

const IDENTITY_HEADERS = {
  tenantId: 'X-CallStack-Tenant',
  userId: 'X-CallStack-User',
  deviceId: 'X-CallStack-Device',
  displayName: 'X-CallStack-Name',
} as const;

/** Headers the Worker sets on the upgrade it forwards (after verifying the access token). */
export function identityHeaders(identity: DeviceIdentity): Record<string, string> {
  return {
    [IDENTITY_HEADERS.tenantId]: identity.tenantId,
    [IDENTITY_HEADERS.userId]: identity.userId,
    [IDENTITY_HEADERS.deviceId]: identity.deviceId,
    [IDENTITY_HEADERS.displayName]: encodeURIComponent(identity.displayName),
  };
}

function readIdentity(headers: Headers): DeviceIdentity | null {
  const tenantId = headers.get(IDENTITY_HEADERS.tenantId);
  const userId = headers.get(IDENTITY_HEADERS.userId);
  const deviceId = headers.get(IDENTITY_HEADERS.deviceId);
  const displayName = headers.get(IDENTITY_HEADERS.displayName);
  if (!tenantId || !userId || !deviceId || displayName === null) return null;
  return { tenantId, userId, deviceId, displayName: decodeURIComponent(displayName) };
}

function actorOf(device: DeviceIdentity): Actor {
  return { tenantId: device.tenantId, userId: device.userId, deviceId: device.deviceId };
}

function ids(device: DeviceIdentity) {
  return { tenantId: device.tenantId, userId: device.userId, deviceId: device.deviceId };
}
