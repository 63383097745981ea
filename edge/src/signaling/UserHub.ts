/**
 * One Durable Object per user, named `<tenantId>:<userId>`: every signaling WebSocket of that
 * user's devices (tabs, phones) lands here, tagged with its device id. It rings all devices,
 * routes a device's call messages to the call's CallSession, and remembers which calls the user
 * is in (for busy and for resuming after a reconnect).
 *
 * Room messages go to the room's object (rooms/Room.ts); the hub remembers which rooms each
 * device joined, so a device whose socket closes leaves them. Quality reports go to the call's
 * or room's object, which answers with the rating (`quality.update`).
 *
 * It also owns its user's presence: it folds the devices' activity, the calls and the manual
 * choice into one status (presence/fold.ts), tells the user's devices (`presence.self`) and
 * publishes each change to the tenant's presence shards.
 *
 * Sockets use the Hibernation API: the hub may be evicted between messages; identity lives in
 * each socket's attachment, the call list and the presence state in the hub's SQLite storage.
 */
import {
  assertNever,
  CloseCode,
  ErrorCode,
  parseClientMessage,
  type ClientMessage,
  type ManualStatus,
  type Party,
  type PresenceStatus,
  type QualityReport,
  type RoomClientMessage,
  type ServerMessage,
} from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { findActiveUser } from '../db/users.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { foldPresence, nextSince } from '../presence/fold.ts';
import { admitFrame, SocketAttachment, SocketRateLimiter, trySend } from '../objects/sockets.ts';
import { callSession, presenceShards, roomObject, userHub } from '../objects/stubs.ts';
import { actorOf, failure, type Outcome } from '../objects/actor.ts';
import { readIdentity, type DeviceIdentity } from '../objects/identity.ts';
import type { DeviceSelector, RingOutcome } from './types.ts';

/** What a device socket carries across hibernation: who it is and whether its user is idle there. */
interface DeviceSocket extends DeviceIdentity {
  idle: boolean;
}

const sockets = new SocketAttachment<DeviceSocket>();

/** A presence change that did not reach every shard is published again after this long. */
const PUBLISH_RETRY_MS = 5_000;

type PresenceRow = {
  tenant_id: string;
  user_id: string;
  status: PresenceStatus;
  since: number;
  manual: 'away' | 'dnd' | null;
  /** When the user goes offline unless a device comes back; null while a device is connected. */
  offline_at: number | null;
  /** The newest `since` every shard has acknowledged. */
  published_since: number;
};

/** A device may send bursts of ICE candidates; sustained floods are dropped with an error. */
const RATE_BURST = 60;
const RATE_PER_SECOND = 30;

type TrackedStatus = 'ringing' | 'active';

/** What handling a message yields: success may carry the reply that replaces `ack`. */
type Handled = Outcome<{ reply?: ServerMessage }>;

export class UserHub extends DurableObject<Env> {
  private readonly limiter = new SocketRateLimiter(RATE_BURST, RATE_PER_SECOND);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `create table if not exists calls (call_id text primary key, status text not null, tenant_id text not null)`,
    );
    ctx.storage.sql.exec(
      `create table if not exists rooms (room_id text not null, device_id text not null, tenant_id text not null,
         primary key (room_id, device_id))`,
    );
    // One row, written when the first device connects: the alarm needs the ids with no socket left.
    ctx.storage.sql.exec(
      `create table if not exists presence (
         id integer primary key check (id = 1), tenant_id text not null, user_id text not null,
         status text not null, since integer not null, manual text, offline_at integer,
         published_since integer not null)`,
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
      previous.close(CloseCode.replaced, 'replaced by a newer connection');
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [identity.deviceId]);
    sockets.write(server, { ...identity, idle: false });

    const activeCalls = await this.liveCalls();
    this.send(server, { type: 'hello', userId: identity.userId, deviceId: identity.deviceId, activeCalls });
    // A device that comes back within the grace period keeps its call.
    await Promise.all(activeCalls.map(({ callId }) => callSession(this.env, identity.tenantId, callId).deviceBack(identity)));
    log.info('device.connected', actorOf(identity));
    await this.refreshPresence({ newDevice: server, identity });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const device = sockets.read(ws);
    if (!device) return;
    const message = admitFrame(ws, raw, this.limiter, parseClientMessage);
    if (!message) return;
    let outcome: Handled;
    try {
      outcome = await this.handle(ws, device, message);
    } catch (error) {
      log.error('signaling.failed', { ...actorOf(device), type: message.type }, error);
      const safe = error instanceof ApiError ? error : new ApiError(ErrorCode.internal, 'internal error');
      outcome = failure(safe.code, safe.message);
    }
    if (!outcome.ok) this.send(ws, { type: 'error', ref: message.ref, code: outcome.code, message: outcome.message });
    else if (outcome.reply) this.send(ws, outcome.reply);
    else if (message.ref !== undefined && message.type !== 'ping') this.send(ws, { type: 'ack', ref: message.ref });
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    await this.deviceGone(ws, code);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    const device = sockets.read(ws);
    log.warn('device.socket_error', device ? actorOf(device) : {}, error);
    await this.deviceGone(ws, 1006);
  }

  /** Ends the offline grace period, and publishes again a change some shard missed. */
  override async alarm(): Promise<void> {
    await this.refreshPresence();
    const row = this.presenceRow();
    if (row && row.published_since < row.since) await this.publish(row);
    await this.scheduleAlarm();
  }

  // ---- called by the Worker ----------------------------------------------------------------

  /**
   * Closes every socket of this user, signaling and presence watchers, with `code` (e.g.
   * CloseCode.disconnected), and makes the user offline at once: used to deactivate an account or sign
   * it out everywhere.
   */
  async disconnectAll(code: number, reason: string): Promise<void> {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.close(code, reason);
    const row = this.presenceRow();
    if (!row) return;
    log.info('user.disconnected_all', { tenantId: row.tenant_id, userId: row.user_id, code, sockets: sockets.length });
    await Promise.all(
      presenceShards(this.env, row.tenant_id).map((shard) =>
        shard.closeUser(row.user_id, code, reason).catch((error: unknown) => {
          log.warn('presence.close_failed', { tenantId: row.tenant_id, userId: row.user_id }, error);
        }),
      ),
    );
    await this.refreshPresence({ gone: sockets, offlineNow: true });
  }

  // ---- called by CallSession ---------------------------------------------------------------

  /** Rings every device of this user, unless the user is in another call or has no device. */
  async ring(incoming: Extract<ServerMessage, { type: 'call.incoming' }>, tenantId: string): Promise<RingOutcome> {
    // Do-not-disturb: the caller hears busy, the user's devices never ring.
    if (this.presenceRow()?.manual === 'dnd') return 'busy';
    const busy = (await this.liveCalls()).some(({ callId }) => callId !== incoming.callId);
    if (busy) return 'busy';
    if (this.ctx.getWebSockets().length === 0) return 'unavailable';
    await this.track(incoming.callId, 'ringing', tenantId);
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

  /** Marks the user as in a call (busy). */
  async track(callId: string, status: TrackedStatus, tenantId: string): Promise<void> {
    this.ctx.storage.sql.exec(
      `insert into calls (call_id, status, tenant_id) values (?, ?, ?)
       on conflict (call_id) do update set status = excluded.status`,
      callId,
      status,
      tenantId,
    );
    await this.refreshPresence();
  }

  async untrack(callId: string): Promise<void> {
    this.ctx.storage.sql.exec('delete from calls where call_id = ?', callId);
    await this.refreshPresence();
  }

  // ---- internals ---------------------------------------------------------------------------

  private async handle(ws: WebSocket, device: DeviceSocket, message: ClientMessage): Promise<Handled> {
    switch (message.type) {
      case 'ping':
        this.deliver({ type: 'pong', ref: message.ref }, { only: device.deviceId });
        return { ok: true };
      case 'presence.set':
        await this.refreshPresence({ manual: message.status });
        return { ok: true };
      case 'presence.activity':
        sockets.write(ws, { ...device, idle: message.idle });
        await this.refreshPresence();
        return { ok: true };
      case 'call.invite':
        return this.invite(device, message);
      case 'call.accept':
      case 'call.reject':
      case 'call.cancel':
      case 'call.hangup':
      case 'call.offer':
      case 'call.answer':
      case 'call.ice':
        return callSession(this.env, device.tenantId, message.callId).act(actorOf(device), message);
      case 'room.create':
      case 'room.join':
      case 'room.leave':
      case 'room.transport.create':
      case 'room.transport.connect':
      case 'room.produce':
      case 'room.producer.pause':
      case 'room.producer.resume':
      case 'room.producer.close':
      case 'room.consume':
      case 'room.consumer.pause':
      case 'room.consumer.resume':
      case 'room.consumer.layers':
      case 'room.probe':
      case 'room.recording.start':
      case 'room.recording.stop':
        return this.roomAction(device, message);
      case 'quality.report':
        return this.qualityReport(device, message);
      default:
        return assertNever(message);
    }
  }

  /** A stats summary goes to the call's or room's object, which keeps the aggregate and rates it. */
  private qualityReport(device: DeviceIdentity, report: QualityReport): Promise<Handled> {
    const { scope } = report;
    switch (scope.kind) {
      case 'call':
        return callSession(this.env, device.tenantId, scope.callId).reportQuality(actorOf(device), report);
      case 'room':
        return roomObject(this.env, device.tenantId, scope.roomId).reportQuality(actorOf(device), report);
      default:
        return assertNever(scope);
    }
  }

  private async roomAction(device: DeviceIdentity, message: RoomClientMessage): Promise<Handled> {
    const actor = { ...actorOf(device), displayName: device.displayName };
    if (message.type === 'room.create') {
      const roomId = crypto.randomUUID();
      const created = await roomObject(this.env, device.tenantId, roomId).create(device.tenantId, roomId, actor);
      return created.ok ? { ok: true, reply: { type: 'room.created', ref: message.ref, roomId } } : created;
    }
    const outcome = await roomObject(this.env, device.tenantId, message.roomId).act(actor, message);
    if (message.type === 'room.join' && outcome.ok) {
      this.ctx.storage.sql.exec(
        'insert or ignore into rooms (room_id, device_id, tenant_id) values (?, ?, ?)',
        message.roomId,
        device.deviceId,
        device.tenantId,
      );
    } else if (message.type === 'room.leave') {
      this.ctx.storage.sql.exec('delete from rooms where room_id = ? and device_id = ?', message.roomId, device.deviceId);
    }
    return outcome;
  }

  private async invite(device: DeviceIdentity, { callId, to: calleeId, media, record }: Extract<ClientMessage, { type: 'call.invite' }>): Promise<Outcome> {
    if (calleeId === device.userId) return failure(ErrorCode.badRequest, 'you cannot call yourself');
    if ((await this.liveCalls()).length > 0) {
      return failure(ErrorCode.invalidState, 'you are already in a call');
    }
    const callee = await this.findCallee(device.tenantId, calleeId);
    if (!callee) return failure(ErrorCode.notFound, 'no such user in your organisation');

    // Marked before the callee rings, so a simultaneous incoming call finds this user busy.
    await this.track(callId, 'ringing', device.tenantId);
    const started = await callSession(this.env, device.tenantId, callId).start({
      callId,
      tenantId: device.tenantId,
      caller: { userId: device.userId, displayName: device.displayName, deviceId: device.deviceId },
      callee,
      media,
      record: record === true,
    });
    if (!started.ok) await this.untrack(callId);
    return started;
  }

  /**
   * Who this hub's user is, as proven by the tokens its connected devices signed in with; null
   * when no device is connected. The hub's name fixes tenant and user, so this needs no lookup.
   */
  identify(): Party | null {
    const [socket] = this.ctx.getWebSockets();
    if (!socket) return null;
    const identity = sockets.read(socket);
    return identity && { userId: identity.userId, displayName: identity.displayName };
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
    for (const { row, live } of checked) if (!live) await this.untrack(row.call_id);
    return checked.filter(({ live }) => live).map(({ row }) => ({ callId: row.call_id, state: row.status }));
  }

  private async deviceGone(ws: WebSocket, code: number): Promise<void> {
    const device = sockets.read(ws);
    if (!device) return;
    log.info('device.disconnected', { ...actorOf(device), code });
    if (code === CloseCode.replaced) return;
    const calls = this.ctx.storage.sql.exec<{ call_id: string }>('select call_id from calls').toArray();
    await Promise.all(calls.map((row) => callSession(this.env, device.tenantId, row.call_id).deviceLost(actorOf(device))));
    await this.leaveRooms(device);
    await this.refreshPresence({ gone: [ws] });
  }

  /** A device that is gone leaves its rooms; a room that cannot be told keeps it until its next join. */
  private async leaveRooms(device: DeviceIdentity): Promise<void> {
    const rooms = this.ctx.storage.sql
      .exec<{ room_id: string; tenant_id: string }>('select room_id, tenant_id from rooms where device_id = ?', device.deviceId)
      .toArray();
    await Promise.all(
      rooms.map(async (row) => {
        try {
          await roomObject(this.env, row.tenant_id, row.room_id).deviceGone(actorOf(device));
          this.ctx.storage.sql.exec('delete from rooms where room_id = ? and device_id = ?', row.room_id, device.deviceId);
        } catch (error) {
          log.warn('room.leave_failed', { ...actorOf(device), roomId: row.room_id }, error);
        }
      }),
    );
  }

  // ---- presence ----------------------------------------------------------------------------

  private presenceRow(): PresenceRow | undefined {
    return this.ctx.storage.sql.exec<PresenceRow>('select * from presence').toArray()[0];
  }

  /**
   * Folds the user's status from the devices, calls and manual choice; when it changed, stores
   * it, tells every device and publishes it. `gone` are sockets closing right now (the runtime
   * may still list them); `offlineNow` skips the grace; `newDevice` gets `presence.self` even when
   * nothing changed.
   */
  private async refreshPresence(
    options: { manual?: ManualStatus; gone?: WebSocket[]; offlineNow?: boolean; newDevice?: WebSocket; identity?: DeviceIdentity } = {},
  ): Promise<void> {
    const now = Date.now();
    const stored = this.presenceRow();
    const identity = stored ? { tenantId: stored.tenant_id, userId: stored.user_id } : options.identity;
    if (!identity) return; // no device ever connected: the user is offline and nobody needs telling
    const previous: PresenceRow = stored ?? {
      tenant_id: identity.tenantId,
      user_id: identity.userId,
      status: 'offline',
      since: 0,
      manual: null,
      offline_at: null,
      published_since: 0,
    };
    const devices = this.devices(options.gone ?? []);
    const manual = options.manual === undefined ? previous.manual : options.manual === 'online' ? null : options.manual;
    let offlineAt = previous.offline_at;
    if (devices.length > 0) offlineAt = null;
    else if (options.offlineNow) offlineAt = now;
    else if (offlineAt === null && previous.status !== 'offline') {
      offlineAt = now + config(this.env).presence.offlineGraceMs;
    }
    const inCall = this.ctx.storage.sql.exec('select 1 from calls limit 1').toArray().length > 0;
    const status = foldPresence({ devices, withinGrace: offlineAt !== null && now < offlineAt, inCall, manual }, previous.status);
    if (status === 'offline') offlineAt = null;
    const changed = status !== previous.status;
    const next: PresenceRow = {
      ...previous,
      status,
      since: changed ? nextSince(previous.since, now) : previous.since,
      manual,
      offline_at: offlineAt,
    };
    this.ctx.storage.sql.exec(
      `insert into presence (id, tenant_id, user_id, status, since, manual, offline_at, published_since)
       values (1, ?, ?, ?, ?, ?, ?, ?)
       on conflict (id) do update set status = excluded.status, since = excluded.since,
         manual = excluded.manual, offline_at = excluded.offline_at`,
      next.tenant_id,
      next.user_id,
      next.status,
      next.since,
      next.manual,
      next.offline_at,
      next.published_since,
    );
    const self: ServerMessage = { type: 'presence.self', status, manual, since: next.since };
    if (changed || manual !== previous.manual) this.deliver(self, 'all');
    else if (options.newDevice) this.send(options.newDevice, self);
    if (changed) {
      log.info('presence.changed', { tenantId: next.tenant_id, userId: next.user_id, status, previous: previous.status });
      await this.publish(next);
    }
    if (offlineAt !== previous.offline_at) await this.scheduleAlarm();
  }

  /** Connected devices, one per device id; a device is idle only if all its sockets say so. */
  private devices(gone: WebSocket[]): { idle: boolean }[] {
    const byDevice = new Map<string, { idle: boolean }>();
    for (const ws of this.ctx.getWebSockets()) {
      if (gone.includes(ws)) continue;
      const device = sockets.read(ws);
      if (!device) continue;
      const idle = device.idle === true && (byDevice.get(device.deviceId)?.idle ?? true);
      byDevice.set(device.deviceId, { idle });
    }
    return [...byDevice.values()];
  }

  /**
   * Sends the status to every shard of the tenant (one RPC each; shards drop what is not newer,
   * so retries and overtaking calls are harmless). A shard that fails gets it again from the alarm.
   */
  private async publish(row: PresenceRow): Promise<void> {
    const entry = { userId: row.user_id, status: row.status, since: row.since };
    const results = await Promise.allSettled(presenceShards(this.env, row.tenant_id).map((shard) => shard.publish(entry)));
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length === 0) {
      this.ctx.storage.sql.exec('update presence set published_since = max(published_since, ?)', row.since);
      return;
    }
    log.warn('presence.publish_failed', { tenantId: row.tenant_id, userId: row.user_id, shards: failed.length }, failed[0]?.reason);
    await this.scheduleAlarm();
  }

  /** The alarm serves the offline grace and publish retries: set it to whichever comes first. */
  private async scheduleAlarm(): Promise<void> {
    const row = this.presenceRow();
    const due = [row?.offline_at ?? null, row && row.published_since < row.since ? Date.now() + PUBLISH_RETRY_MS : null].filter(
      (at): at is number => at !== null,
    );
    if (due.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.min(...due));
  }

  private send(ws: WebSocket, message: ServerMessage): boolean {
    return trySend(ws, message);
  }
}
