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
 * The hub is a router over three small units that keep their state in its SQLite: the user's
 * calls (UserCalls), the rooms of each device (DeviceRooms) and the user's presence
 * (presence/UserPresence.ts), which it tells what happens to the devices and calls and whose
 * deadline (offline grace, publish retries) is the hub's alarm.
 *
 * Sockets use the Hibernation API: the hub may be evicted between messages; identity lives in
 * each socket's attachment, everything else in the hub's SQLite storage.
 *
 * SIP accounts are devices too (SipDevices): the SIP gateway speaks for them with the same client
 * messages over signed HTTP (protocol/src/sip.ts), and the hub posts their call messages back to
 * the gateway that reaches them. A registered phone counts for presence and rings with the tabs.
 */
import {
  assertNever,
  CloseCode,
  ErrorCode,
  isSipClientMessage,
  newLineId,
  parseClientMessage,
  type ClientMessage,
  type Party,
  type QualityReport,
  type RoomClientMessage,
  type ServerMessage,
  SIP_DEVICE_PREFIX,
  type SipClientMessage,
  type SipDevice,
  type SipGatewayNode,
} from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { withDb } from '../db/client.ts';
import { findActiveUser } from '../db/users.ts';
import type { Env } from '../env.ts';
import { config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { UserPresence } from '../presence/UserPresence.ts';
import { setAlarmToEarliest } from '../objects/deadlines.ts';
import { admitFrame, SocketAttachment, SocketRateLimiter, trySend } from '../objects/sockets.ts';
import { callSession, pstnGuard, roomObject, userHub } from '../objects/stubs.ts';
import { actorOf, failure, type Outcome } from '../objects/actor.ts';
import { readIdentity, SOCKET_TICKET_HEADER, type DeviceIdentity } from '../objects/identity.ts';
import { errorResponse } from '../http.ts';
import { SOCKET_TICKET_TTL_SECONDS, ticketSpent } from '../auth/tokens.ts';
import { NonceLedger } from '../objects/NonceLedger.ts';
import { displayNumber } from '../pstn/destination.ts';
import { decideOutbound } from '../pstn/outbound.ts';
import { deliverToGateway } from '../sip/gatewayClient.ts';
import { DeviceRooms } from './DeviceRooms.ts';
import { SipDevices } from './SipDevices.ts';
import type { DeviceSelector, HubEffect, RingOutcome, TrackedStatus } from './types.ts';
import { UserCalls } from './UserCalls.ts';

/** What a device socket carries across hibernation: who it is and whether its user is idle there. */
interface DeviceSocket extends DeviceIdentity {
  idle: boolean;
}

const sockets = new SocketAttachment<DeviceSocket>();

/** A device may send bursts of ICE candidates; sustained floods are dropped with an error. */
const RATE_BURST = 60;
const RATE_PER_SECOND = 30;

/** What handling a message yields: success may carry the reply that replaces `ack`. */
type Handled = Outcome<{ reply?: ServerMessage }>;

/** A signed gateway request may be accepted for ±60 s (controlSignature.ts): its nonce is kept that long and a bit. */
const SIP_NONCE_RETAIN_MS = 150_000;

export class UserHub extends DurableObject<Env> {
  private readonly limiter = new SocketRateLimiter(RATE_BURST, RATE_PER_SECOND);
  private readonly calls: UserCalls;
  private readonly rooms: DeviceRooms;
  private readonly presence: UserPresence;
  private readonly sip: SipDevices;
  private readonly sipNonces: NonceLedger;
  private readonly socketTickets: NonceLedger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.calls = new UserCalls(ctx.storage.sql, env);
    this.rooms = new DeviceRooms(ctx.storage.sql, env);
    this.sip = new SipDevices(ctx.storage.sql);
    this.sipNonces = new NonceLedger(ctx.storage, 'sip.nonce:', SIP_NONCE_RETAIN_MS);
    this.socketTickets = new NonceLedger(ctx.storage, 'ticket:', SOCKET_TICKET_TTL_SECONDS * 1000);
    this.presence = new UserPresence(ctx.storage.sql, env, {
      sockets: (gone) => [
        ...ctx.getWebSockets().flatMap((ws) => {
          const device = gone.includes(ws) ? null : sockets.read(ws);
          return device ? [{ deviceId: device.deviceId, idle: device.idle === true }] : [];
        }),
        ...this.sip.registered(Date.now()).map(({ device }) => ({ deviceId: device.deviceId, idle: false })),
      ],
      inCall: () => this.calls.any(),
      deliver: (message, to) => (to === 'all' ? this.deliverToSockets(message, 'all') : this.send(to, message)),
    });
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** The Worker forwards an authenticated upgrade here; identity arrives in trusted headers. */
  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request.headers);
    const ticketId = request.headers.get(SOCKET_TICKET_HEADER);
    if (!identity || !ticketId || request.headers.get('Upgrade') !== 'websocket') {
      return new Response('expected an authenticated WebSocket upgrade', { status: 400 });
    }
    if (!(await this.spendSocketTicket(ticketId))) return errorResponse(ticketSpent(), request);
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
    await this.present((presence) => presence.deviceConnected(server, identity));
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

  /** Presence's deadline: the end of the offline grace, a status some shard missed, or a lapsing phone registration. */
  override async alarm(): Promise<void> {
    // The alarm that fired is spent: set it again even if the deadline did not move.
    await this.present((presence) => presence.alarm(), { spent: true });
    await this.sipNonces.forgetExpired();
    await this.socketTickets.forgetExpired();
  }

  // ---- called by the Worker ------------------------------------------------------------------

  /** False when the socket ticket was spent already (each opens one WebSocket, signaling or presence). */
  async spendSocketTicket(id: string): Promise<boolean> {
    const first = await this.socketTickets.firstSighting(id);
    await this.socketTickets.forgetExpired();
    return first;
  }

  // ---- called by the Worker for the SIP gateway ----------------------------------------------

  /** A contact of this user's phone registered (`expires` > 0) or was removed; false for a replayed request. */
  async sipRegistered(device: SipDevice, node: SipGatewayNode, contact: string, expires: number, nonce: string): Promise<boolean> {
    if (!(await this.sipNonces.firstSighting(nonce))) return false;
    await this.sipNonces.forgetExpired();
    const now = Date.now();
    const before = this.sip.find(device.deviceId);
    const wasRegistered = before !== null && before.registeredUntil > now;
    this.sip.register(device, node, contact, expires > 0 ? now + expires * 1000 : 0);
    const isRegistered = this.sip.find(device.deviceId)!.registeredUntil > now;
    log.info(expires > 0 ? 'sip.registered' : 'sip.unregistered', { ...actorOf(device), nodeId: node.nodeId, expires, stillRegistered: isRegistered });
    if (isRegistered && !wasRegistered) await this.present((presence) => presence.deviceConnected(null, device));
    else await this.present((presence) => presence.changed());
    return true;
  }

  /** A client message from a SIP device; answered with what a socket would get back. */
  async sipMessage(device: SipDevice, node: SipGatewayNode, message: ClientMessage, nonce: string): Promise<ServerMessage> {
    const refuse = (code: ErrorCode, text: string): ServerMessage => ({ type: 'error', ref: message.ref, code, message: text });
    if (!device.deviceId.startsWith(SIP_DEVICE_PREFIX)) return refuse(ErrorCode.forbidden, 'not a SIP device');
    if (!isSipClientMessage(message)) return refuse(ErrorCode.badRequest, `${message.type} is not for SIP devices`);
    if (!(await this.sipNonces.firstSighting(nonce))) return refuse(ErrorCode.conflict, 'this request was already received (replayed signature)');
    if (message.type === 'call.invite') await this.sipNonces.forgetExpired();
    this.sip.seen(device, node);
    let outcome: Handled;
    try {
      outcome = await this.handleCall(device, message);
    } catch (error) {
      log.error('signaling.failed', { ...actorOf(device), type: message.type }, error);
      outcome = failure(ErrorCode.internal, 'internal error');
    }
    if (!outcome.ok) return refuse(outcome.code, outcome.message);
    return outcome.reply ?? { type: 'ack', ref: message.ref ?? '' };
  }

  // ---- called by the Worker ----------------------------------------------------------------

  /**
   * Closes every socket of this user, signaling and presence watchers, with `code` (e.g.
   * CloseCode.disconnected), and makes the user offline at once: used to deactivate an account or sign
   * it out everywhere. `dropPhones`: the account is gone (deactivated, erased), so its registered
   * phones stop counting too; signing out or a password reset leaves them (they use SIP credentials).
   */
  async disconnectAll(code: number, reason: string, dropPhones = false): Promise<void> {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.close(code, reason);
    // A registered phone would keep the user online (and ringing) until its registration lapsed.
    if (dropPhones) this.sip.unregisterAll();
    await this.present((presence) => presence.disconnectAll(code, reason, sockets));
  }

  // ---- called by CallSession ---------------------------------------------------------------

  /**
   * Rings every device of this user, unless the user is in another call or has no device.
   * `replacing`: an attended transfer takes over that call of this user's, so only its device
   * rings, and that call does not make the user busy (nor does do-not-disturb apply: they agreed).
   */
  async ring(
    incoming: Extract<ServerMessage, { type: 'call.incoming' }>,
    tenantId: string,
    replacing?: { callId: string; deviceId: string },
  ): Promise<RingOutcome> {
    // Do-not-disturb: the caller hears busy, the user's devices never ring.
    if (!replacing && this.presence.doNotDisturb()) return 'busy';
    const busy = (await this.liveCalls()).some(({ callId }) => callId !== incoming.callId && callId !== replacing?.callId);
    if (busy) return 'busy';
    if (this.ctx.getWebSockets().length === 0 && this.sip.registered(Date.now()).length === 0) return 'unavailable';
    const devices: DeviceSelector = replacing ? { only: replacing.deviceId } : 'all';
    await this.track(incoming.callId, 'ringing', tenantId);
    // The one device of a takeover may have gone meanwhile.
    if ((await this.deliver(incoming, devices)) === 0) {
      await this.untrack(incoming.callId);
      return 'unavailable';
    }
    return 'ringing';
  }

  /** Sends a message to the selected devices, sockets and SIP; returns how many took it. */
  async deliver(message: ServerMessage, devices: DeviceSelector): Promise<number> {
    const sent = this.deliverToSockets(message, devices);
    if (!message.type.startsWith('call.')) return sent;
    const now = Date.now();
    const targets =
      devices === 'all'
        ? this.sip.registered(now)
        : 'only' in devices
          ? [this.sip.find(devices.only)].filter((route) => route !== null)
          : this.sip.registered(now).filter(({ device }) => device.deviceId !== devices.except);
    const delivered = await Promise.all(targets.map(({ device, node }) => deliverToGateway(this.env, node, { device, message })));
    return sent + delivered.filter(Boolean).length;
  }

  /** Sends a message to the selected device sockets; returns how many took it. */
  private deliverToSockets(message: ServerMessage, devices: DeviceSelector): number {
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

  /**
   * What a call session's step asks of this user, in one request: deliveries to the devices and
   * busy marks, in order, with presence folded once at the end.
   */
  async apply(callId: string, tenantId: string, effects: HubEffect[]): Promise<void> {
    let tracking = false;
    for (const effect of effects) {
      switch (effect.kind) {
        case 'deliver':
          await this.deliver(effect.message, effect.devices);
          break;
        case 'track':
          this.calls.track(callId, effect.status, tenantId);
          tracking = true;
          break;
        case 'untrack':
          this.calls.untrack(callId);
          tracking = true;
          break;
        default:
          effect satisfies never;
      }
    }
    if (tracking) await this.present((presence) => presence.changed());
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Marks the user as in a call (busy): a call this hub starts or rings. */
  private async track(callId: string, status: TrackedStatus, tenantId: string): Promise<void> {
    this.calls.track(callId, status, tenantId);
    await this.present((presence) => presence.changed());
  }

  private async untrack(callId: string): Promise<void> {
    this.calls.untrack(callId);
    await this.present((presence) => presence.changed());
  }

  private async handle(ws: WebSocket, device: DeviceSocket, message: ClientMessage): Promise<Handled> {
    // Every room message goes to the room's object, which tells them apart itself.
    if (isRoomMessage(message)) return this.roomAction(device, message);
    switch (message.type) {
      case 'ping':
        this.deliverToSockets({ type: 'pong', ref: message.ref }, { only: device.deviceId });
        return { ok: true };
      case 'presence.set':
        await this.present((presence) => presence.setManual(message.status));
        return { ok: true };
      case 'presence.activity':
        sockets.write(ws, { ...device, idle: message.idle });
        await this.present((presence) => presence.changed());
        return { ok: true };
      case 'call.dial':
        return this.dial(device, message);
      case 'call.invite':
      case 'call.accept':
      case 'call.reject':
      case 'call.cancel':
      case 'call.hangup':
      case 'call.transfer':
      case 'call.offer':
      case 'call.answer':
      case 'call.ice':
      case 'call.mute':
      case 'quality.report':
        return this.handleCall(device, message);
      default:
        return assertNever(message);
    }
  }

  /** Call messages, from a socket or a SIP device alike. */
  private handleCall(device: DeviceIdentity, message: SipClientMessage): Promise<Handled> {
    switch (message.type) {
      case 'call.invite':
        return this.invite(device, message);
      case 'call.accept':
      case 'call.reject':
      case 'call.cancel':
      case 'call.hangup':
      case 'call.offer':
      case 'call.answer':
      case 'call.ice':
      case 'call.mute':
        return callSession(this.env, device.tenantId, message.callId).act(actorOf(device), message);
      case 'call.transfer':
        return this.transfer(device, message);
      case 'quality.report':
        return this.qualityReport(device, message);
      default:
        return assertNever(message);
    }
  }

  private async transfer(device: DeviceIdentity, { callId, to, replaces }: Extract<ClientMessage, { type: 'call.transfer' }>): Promise<Outcome> {
    const target = await this.findCallee(device.tenantId, to);
    if (!target) return failure(ErrorCode.notFound, 'no such user in your organisation');
    return callSession(this.env, device.tenantId, callId).transfer(actorOf(device), target, replaces);
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
    if (message.type === 'room.join' && outcome.ok) this.rooms.joined(message.roomId, device);
    else if (message.type === 'room.leave') this.rooms.left(message.roomId, device.deviceId);
    return outcome;
  }

  /** A number dialled in the browser: the edge's outbound decision, then a call whose callee is a line on a gateway. */
  private async dial(device: DeviceIdentity, { callId, number }: Extract<ClientMessage, { type: 'call.dial' }>): Promise<Outcome> {
    const busy = await this.busyWith();
    if (busy) return busy;
    const gatewayUrl = config(this.env).sipGatewayUrl;
    if (!gatewayUrl) return failure(ErrorCode.mediaUnavailable, 'calling phone numbers is not set up on this platform');
    const decision = await decideOutbound(this.env, { tenantId: device.tenantId, userId: device.userId, displayName: device.displayName }, number, callId);
    if (!decision) return failure(ErrorCode.notFound, `${number} is not a phone number that can be called`);
    if (decision.kind === 'refused') return failure(decision.sipStatus === 403 ? ErrorCode.forbidden : ErrorCode.rateLimited, decision.message);
    const line = newLineId();
    await this.track(callId, 'ringing', device.tenantId);
    const started = await callSession(this.env, device.tenantId, callId).start({
      callId,
      tenantId: device.tenantId,
      caller: { userId: device.userId, displayName: device.displayName, deviceId: device.deviceId },
      // The gateway behind this URL that takes the call names itself in its first message (`via`).
      callee: {
        userId: line,
        displayName: displayNumber(decision.destination),
        number: decision.destination,
        via: { nodeId: 'gateway', controlUrl: gatewayUrl },
      },
      // Calls to the phone network are voice only, whatever the dialler offered.
      media: { audio: true, video: false },
      record: false,
      pstn: decision,
      maxDurationSeconds: decision.maxDurationSeconds,
    });
    if (!started.ok) {
      await this.untrack(callId);
      await pstnGuard(this.env, device.tenantId).release(device.tenantId, callId);
    }
    return started;
  }

  /** Why this user cannot place a call now (one call may be held while consulting someone), or null. */
  private async busyWith(): Promise<Outcome | null> {
    const live = await this.liveCalls();
    return live.length > 1 || live.some((call) => call.state === 'ringing') ? failure(ErrorCode.invalidState, 'you are already in a call') : null;
  }

  private async invite(
    device: DeviceIdentity,
    { callId, to: calleeId, media, record, replaces }: Extract<ClientMessage, { type: 'call.invite' }>,
  ): Promise<Outcome> {
    if (calleeId === device.userId) return failure(ErrorCode.badRequest, 'you cannot call yourself');
    const busy = await this.busyWith();
    if (busy) return busy;
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
      ...(replaces ? { replaces } : {}),
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
    const { live, stale } = await this.calls.checkLive();
    for (const call of stale) await this.untrack(call.callId);
    return live.map(({ callId, state }) => ({ callId, state }));
  }

  private async deviceGone(ws: WebSocket, code: number): Promise<void> {
    const device = sockets.read(ws);
    if (!device) return;
    log.info('device.disconnected', { ...actorOf(device), code });
    if (code === CloseCode.replaced) return;
    await Promise.all(this.calls.all().map((call) => callSession(this.env, device.tenantId, call.callId).deviceLost(actorOf(device))));
    await this.rooms.leaveAll(device);
    await this.present((presence) => presence.changed([ws]));
  }

  /**
   * Hands presence an event, then points the alarm at presence's deadline (the hub's only one).
   * Compared with the alarm as it is set now, not as it was before the event: events interleave
   * at every await, and another one may have moved the alarm meanwhile. `spent`: the alarm that
   * fired is gone, so it is set again whatever it read.
   */
  private async present(event: (presence: UserPresence) => Promise<void>, { spent = false } = {}): Promise<void> {
    await event(this.presence);
    const due = earliest(this.presence.dueAt(), this.sip.nextExpiry(Date.now()));
    if (spent || due !== (await this.ctx.storage.getAlarm())) await setAlarmToEarliest(this.ctx.storage, [due]);
  }

  private send(ws: WebSocket, message: ServerMessage): boolean {
    return trySend(ws, message);
  }
}

function earliest(...deadlines: (number | null)[]): number | null {
  const set = deadlines.filter((deadline) => deadline !== null);
  return set.length ? Math.min(...set) : null;
}

function isRoomMessage(message: ClientMessage): message is RoomClientMessage {
  return message.type.startsWith('room.');
}
