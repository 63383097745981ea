/**
 * One Durable Object per conference room, named `<tenantId>:<roomId>`. The rules are roomState.ts
 * (pure): the object loads its state, applies a rule, saves the result and only then carries out
 * the effects, in order. It composes RoomPlacement (which node, failover), RoomRecording (the
 * recording, its row and audit) and relay.ts (media requests to the node), and keeps the rest:
 * stays (room_sessions rows, written through DurableWriter), node-event nonces and the alarm.
 *
 * The node knows the room by this object's id (64 hex characters), so the node's events
 * (POST /api/fleet/events) come straight back here, and room ids of different tenants never meet
 * on a node. Nothing that matters lives only in memory. Membership, placement and recording run
 * one at a time (`queue`); relays run concurrently, as the node orders them per peer anyway.
 * (About 400 lines: the object's public RPCs and the effect interpreter; the rules and the
 * collaborators are already elsewhere.)
 *
 * A recorded 1:1 call's room (`call`, opened and closed by CallSession) admits only the call's
 * two parties and starts recording by itself, in the caller's name, once something is published.
 */
import {
  assertNever,
  CONTROL_SIGNATURE_MAX_SKEW_SECONDS,
  ErrorCode,
  rateReport,
  type MediaNodeEvent,
  type QualityReport,
  type QualityUpdate,
  type RoomClientMessage,
  type ServerMessage,
} from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { withTransaction } from '../db/client.ts';
import { insertRoomSession, type RoomSessionRecord } from '../db/roomSessions.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { addReport, summarise, type QualityAggregate } from '../quality/aggregate.ts';
import { failure, type Actor, type Outcome } from '../objects/actor.ts';
import { setAlarmToEarliest } from '../objects/deadlines.ts';
import { DurableWriter } from '../objects/DurableWriter.ts';
import { NonceLedger } from '../objects/NonceLedger.ts';
import { SerialQueue } from '../objects/SerialQueue.ts';
import { mediaFleet, userHub } from '../objects/stubs.ts';
import { NodeUnreachable } from './control.ts';
import { relay, type Relayed, type RelayMessage } from './relay.ts';
import { RoomNode } from './RoomNode.ts';
import { healthCheckMs, RoomPlacement } from './RoomPlacement.ts';
import { RoomRecording } from './RoomRecording.ts';
import {
  callClosed,
  findParticipant,
  hasRoom,
  isForgotten,
  joined,
  leave,
  logIds,
  mayJoin,
  newRoom,
  nodeReported,
  producerChanged,
  relayTarget,
  roomDeadline,
  type ProducerEvent,
} from './roomState.ts';
import type { Applied, CallRoomOptions, Participant, Recipient, RoomActor, RoomEffect, RoomOutcome, RoomState } from './roomTypes.ts';

// Importers (env.ts, the hubs, CallSession) name the room's types from here.
export type { CallRoomOptions, MigrateReason, RoomActor, RoomOutcome } from './roomTypes.ts';

const STATE_KEY = 'room';
/** A signature is accepted within ±skew of the edge's clock, so its nonce must be kept for both sides of it. */
const NONCE_RETAIN_MS = 2 * CONTROL_SIGNATURE_MAX_SKEW_SECONDS * 1000;
/** Stays (room_sessions rows) not yet written to Postgres, as DurableWriter keeps them. */
const STAYS_KEY = 'pending-stays';
/**
 * Where stays waited before DurableWriter (`{ stays, attempts, nextAttemptAt }`): only rooms whose
 * write was failing at deploy time have it. The alarm, which such a room always has set, hands
 * them to the writer once; drop this after that deploy.
 */
const LEGACY_STAYS_KEY = 'stays';
/** A participant's quality aggregate lives under `quality:<peerId>` until they leave. */
const qualityKey = (peerId: string) => `quality:${peerId}`;

export class Room extends DurableObject<Env> {
  private readonly queue = new SerialQueue();
  private readonly node: RoomNode;
  private readonly placement: RoomPlacement;
  private readonly recording: RoomRecording;
  private readonly stays: DurableWriter<RoomSessionRecord>;
  private readonly nonces: NonceLedger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const store = { load: () => this.load(), commit: (previous: RoomState, applied: Applied) => this.commit(previous, applied) };
    this.node = new RoomNode(env, ctx.id.toString());
    this.placement = new RoomPlacement(env, this.node, store);
    this.recording = new RoomRecording(env, this.node, store);
    this.nonces = new NonceLedger(ctx.storage, 'nonce:', NONCE_RETAIN_MS);
    this.stays = new DurableWriter<RoomSessionRecord>(ctx.storage, {
      key: STAYS_KEY,
      idOf: (stay) => stay.sessionId,
      write: (stays) =>
        withTransaction(env, async (db) => {
          for (const stay of stays) await insertRoomSession(db, stay);
        }),
      onFailure: (error, progress) => log.warn('room.stays_write_failed', { roomObject: this.node.roomId, ...progress }, error),
    });
  }

  // ---- called by the hubs ----------------------------------------------------------------

  async create(tenantId: string, roomId: string, actor: RoomActor, call?: CallRoomOptions): Promise<Outcome> {
    if (await this.load()) return failure(ErrorCode.conflict, 'room id already used');
    await this.save(newRoom(tenantId, roomId, actor, call, Date.now()));
    log.info('room.created', { tenantId, roomId, userId: actor.userId, callId: call?.callId });
    return { ok: true };
  }

  /** The call this room carries ended: everyone leaves (the recording completes) and nobody may join again. */
  async close(): Promise<void> {
    await this.queue.run(async () => {
      const state = await this.load();
      if (!state) return;
      const closing = callClosed(state);
      if (closing.state === state) return;
      const closed = await this.commit(state, closing);
      log.info('room.call_closed', { ...logIds(closed), callId: closed.call?.callId, participants: closed.participants.length });
      for (const { userId, deviceId } of closed.participants) await this.leave({ tenantId: closed.tenantId, userId, deviceId });
    });
  }

  async act(actor: RoomActor, message: Exclude<RoomClientMessage, { type: 'room.create' }>): Promise<RoomOutcome> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such room');
    try {
      switch (message.type) {
        case 'room.join':
          return await this.queue.run(() => this.join(actor, message.ref));
        case 'room.leave': {
          const left = await this.queue.run(() => this.leave(actor));
          return left.ok ? { ok: true } : left;
        }
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
          return await this.relay(state, actor, message);
        case 'room.recording.start':
          return await this.queue.run(() => this.recording.start(actor));
        case 'room.recording.stop':
          return await this.queue.run(() => this.recording.stop(actor));
        default:
          return assertNever(message);
      }
    } catch (error) {
      if (error instanceof ApiError) return failure(error.code, error.message);
      throw error;
    }
  }

  /** Rates a participant's stats summary and folds it into the aggregate of their stay. */
  async reportQuality(actor: Actor, report: QualityReport): Promise<Outcome<{ reply: QualityUpdate }>> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such room');
    const participant = findParticipant(state, actor);
    if (!participant) return failure(ErrorCode.invalidState, 'join the room first');
    const rated = rateReport(report);
    const key = qualityKey(participant.peerId);
    const added = addReport(await this.ctx.storage.get<QualityAggregate>(key), report, rated, Date.now());
    if (!added.ok) return added;
    await this.ctx.storage.put(key, added.aggregate);
    return { ok: true, reply: rated };
  }

  /** The device's socket closed: it leaves (the browser joins again when it reconnects). */
  async deviceGone(actor: Actor): Promise<void> {
    await this.queue.run(() => this.leave(actor));
  }

  // ---- called by the Worker (node events) -------------------------------------------------

  /**
   * Applies a node's event; false when its signature's nonce was seen before (a replay). Nonces
   * are kept only by rooms the event concerns, so unknown rooms store nothing.
   */
  async nodeEvent(event: MediaNodeEvent, nonce: string): Promise<boolean> {
    const state = await this.load();
    // Events from a node the room has left (or never used) describe nothing of ours.
    if (!state?.node || state.node.nodeId !== event.nodeId) return true;
    if (!(await this.nonces.firstSighting(nonce))) {
      log.warn('room.event_replayed', { ...logIds(state), type: event.type });
      return false;
    }
    switch (event.type) {
      case 'speaker.changed':
      case 'producer.closed':
        await this.commit(state, nodeReported(state, event));
        return true;
      case 'room.empty':
        log.debug('room.node_empty', logIds(state));
        return true;
      case 'worker.died':
        log.warn('room.worker_died', { ...logIds(state), workerPid: event.workerPid });
        await this.queue.run(() => this.placement.move(event.nodeId, 'worker-died'));
        return true;
      default:
        return assertNever(event);
    }
  }

  /** Retries stays; checks the node while the room is in use; forgets a room left empty long enough. */
  override async alarm(): Promise<void> {
    await this.adoptLegacyStays();
    await this.stays.flush();
    const state = await this.load();
    if (!state) return;
    await this.nonces.forgetExpired();
    if (state.participants.length === 0) {
      // Forgetting deletes everything: a room whose stays are not written yet waits for them.
      if (isForgotten(state, Date.now()) && !(await this.stays.hasPending())) {
        log.info('room.forgotten', logIds(state));
        await this.ctx.storage.deleteAll();
      } else await this.scheduleAlarm(state);
      return;
    }
    await this.queue.run(() => this.checkNode());
    const current = await this.load();
    if (current) await this.scheduleAlarm(current);
  }

  // ---- membership --------------------------------------------------------------------------

  /** Runs inside the queue. */
  private async join(actor: RoomActor, ref: string | undefined): Promise<RoomOutcome> {
    let state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such room');
    const allowed = mayJoin(state, actor);
    if (!allowed.ok) return allowed;
    // The same device joining again (a reload, a reconnect) replaces its earlier self.
    if (findParticipant(state, actor)) {
      const left = await this.leave(actor);
      if (left.ok) state = left.state;
    }
    const room = hasRoom(state, config(this.env).roomMaxParticipants);
    if (!room.ok) return room;
    const peerId = crypto.randomUUID();
    const current = state.node ?? (await this.placement.place(state)).node;
    const node = current && (await this.placement.joinPeer(current, peerId));
    if (!node) return failure(ErrorCode.mediaUnavailable, 'no media node is available, try again shortly');
    state = (await this.load())!;
    const participant: Participant = { peerId, userId: actor.userId, deviceId: actor.deviceId, displayName: actor.displayName, joinedAt: Date.now() };
    const entered = joined(state, participant, node, ref);
    const next = await this.commit(state, entered);
    log.info('room.joined', { ...logIds(next), userId: actor.userId, deviceId: actor.deviceId, peerId, participants: next.participants.length });
    return { ok: true, reply: entered.reply };
  }

  /** The device leaves (refused when it was not in the room). Runs inside the queue. */
  private async leave(actor: Actor): Promise<Outcome<{ state: RoomState }>> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such room');
    const left = leave(state, actor, Date.now());
    if (!left.ok) return left;
    const next = await this.commit(state, left);
    log.info('room.left', { ...logIds(state), userId: actor.userId, deviceId: actor.deviceId, participants: next.participants.length });
    return { ok: true, state: next };
  }

  /** The alarm's health check: an occupied room without a node is placed, one on a stale node moves. Runs inside the queue. */
  private async checkNode(): Promise<void> {
    const state = await this.load();
    if (!state || state.participants.length === 0) return;
    if (!state.node) await this.placement.place(state);
    else if (!(await mediaFleet(this.env).isHealthy(state.node.nodeId))) await this.placement.move(state.node.nodeId, 'node-stale');
  }

  // ---- relaying to the node ---------------------------------------------------------------

  private async relay(state: RoomState, actor: Actor, message: RelayMessage): Promise<RoomOutcome> {
    const target = relayTarget(state, actor);
    if (!target.ok) return target;
    const { node, participant } = target;
    let relayed: Relayed;
    try {
      relayed = await relay(this.node, node, participant.peerId, message);
    } catch (error) {
      if (!(error instanceof NodeUnreachable)) throw error;
      log.warn('room.node_unreachable', { ...logIds(state), request: message.type }, error);
      await this.queue.run(() => this.placement.move(node.nodeId, 'node-failed'));
      return failure(ErrorCode.mediaUnavailable, 'the media node failed; the room moves to another one (room.migrate follows)');
    }
    if (relayed.event) await this.producerChanged(node.nodeId, participant.peerId, relayed.event);
    return relayed.reply ? { ok: true, reply: relayed.reply } : { ok: true };
  }

  /** What the node did for a participant, applied to the room as it is now (it may have moved meanwhile). */
  private async producerChanged(nodeId: string, peerId: string, event: ProducerEvent): Promise<void> {
    const state = await this.load();
    if (state) await this.commit(state, producerChanged(state, nodeId, peerId, event));
  }

  // ---- applying transitions ---------------------------------------------------------------

  /** Saves the new state (when it changed), then carries out the effects one after the other. */
  private async commit(previous: RoomState, { state, effects }: Applied): Promise<RoomState> {
    if (state !== previous) await this.save(state);
    for (const effect of effects) await this.perform(state, effect);
    return state;
  }

  private async perform(state: RoomState, effect: RoomEffect): Promise<void> {
    switch (effect.kind) {
      case 'broadcast':
        await this.broadcast(state, effect.to, effect.message);
        return;
      case 'stay':
        await this.recordStay(state, effect.participant, effect.leftAt);
        return;
      case 'node.cleanup': {
        const roomId = this.node.roomId;
        const request =
          effect.request.type === 'room.close'
            ? ({ type: 'room.close', roomId } as const)
            : ({ type: 'peer.leave', roomId, peerId: effect.request.peerId } as const);
        // Best effort: a node that does not answer is moved away from by the next request anyway.
        await this.node
          .send(effect.node, request)
          .catch((error: unknown) => log.warn('room.node_cleanup_failed', { ...logIds(state), nodeId: effect.node.nodeId, request: request.type }, error));
        return;
      }
      case 'node.release':
        await mediaFleet(this.env).release(effect.nodeId);
        return;
      case 'node.failed':
        await mediaFleet(this.env).reportFailure(effect.nodeId);
        return;
      case 'recording.end':
        await this.recording.end(state, effect);
        return;
      case 'recording.participant':
        await this.recording.addParticipant(state, effect.recordingId, effect.userId);
        return;
      case 'recording.auto':
        // Only producerChanged asks for it, from a relay: outside the queue, so it may wait in it.
        await this.queue.run(() => this.recording.recordCall());
        return;
      case 'alarm':
        await this.scheduleAlarm(state);
        return;
      default:
        effect satisfies never;
    }
  }

  /** Sends a message to each recipient's device; a failing hub is logged. */
  private async broadcast(state: RoomState, to: Recipient[], message: ServerMessage): Promise<void> {
    await Promise.all(
      to.map((p) =>
        userHub(this.env, state.tenantId, p.userId)
          .deliver(message, { only: p.deviceId })
          .catch((error: unknown) => log.warn('room.deliver_failed', { ...logIds(state), userId: p.userId, type: message.type }, error)),
      ),
    );
  }

  // ---- stays and the alarm ----------------------------------------------------------------

  /** A participant left: their stay, with its quality, becomes a `room_sessions` row (retried from the alarm until written). */
  private async recordStay(state: RoomState, participant: Participant, leftAt: number): Promise<void> {
    const key = qualityKey(participant.peerId);
    const aggregate = await this.ctx.storage.get<QualityAggregate>(key);
    await this.stays.add({
      sessionId: participant.peerId,
      tenantId: state.tenantId,
      roomId: state.roomId,
      userId: participant.userId,
      joinedAt: participant.joinedAt,
      leftAt,
      quality: aggregate ? summarise(aggregate) : null,
    });
    await this.ctx.storage.delete(key);
  }

  private async adoptLegacyStays(): Promise<void> {
    const legacy = await this.ctx.storage.get<{ stays: RoomSessionRecord[] }>(LEGACY_STAYS_KEY);
    if (!legacy) return;
    // Each add also tries the write; a stay written twice is skipped by its key.
    for (const stay of legacy.stays) await this.stays.add(stay);
    await this.ctx.storage.delete(LEGACY_STAYS_KEY);
  }

  /** The earliest of the room's own deadline and the stays' retry. */
  private async scheduleAlarm(state: RoomState): Promise<void> {
    const now = Date.now();
    const retry = await this.stays.dueAt();
    const deadline = roomDeadline(state, now, healthCheckMs(this.env));
    // An empty room kept past its time only for unwritten stays waits for their retry.
    await setAlarmToEarliest(this.ctx.storage, [deadline > now || retry === null ? deadline : null, retry]);
  }

  private async save(state: RoomState): Promise<void> {
    await this.ctx.storage.put(STATE_KEY, state);
  }

  private load(): Promise<RoomState | undefined> {
    return this.ctx.storage.get<RoomState>(STATE_KEY);
  }
}
