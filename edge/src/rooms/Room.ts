/**
 * One Durable Object per conference room, named `<tenantId>:<roomId>`. It owns who is in the
 * room and which media node hosts it, relays participants' requests to that node over the signed
 * control API, tells participants about each other's producers, and moves the room to another
 * node when its node fails (control request fails, registration goes stale, worker dies).
 *
 * The node knows the room by this object's id (64 hex characters), so the node's events
 * (POST /api/fleet/events) come straight back here, and room ids of different tenants never meet
 * on a node. State is one stored record (participants, producers, node); nothing that matters
 * lives only in memory. Membership and placement changes run one at a time (`serial`); relays
 * run concurrently, as the node orders them per peer anyway.
 *
 * A recorded 1:1 call's room (`call`, opened and closed by CallSession) admits only the call's
 * two parties and starts recording by itself, in the caller's name, once something is published.
 */
import {
  assertNever,
  CONTROL_SIGNATURE_MAX_SKEW_SECONDS,
  can,
  ErrorCode,
  rateReport,
  type RecordedTrack,
  type RoomRecordingInfo,
  type MediaNodeEvent,
  type QualityReport,
  type QualityUpdate,
  type RoomClientMessage,
  type RoomParticipant,
  type RoomProducerInfo,
  type RtpCapabilities,
  type ServerMessage,
} from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { recordAudit } from '../db/audit.ts';
import { withDb, withTransaction } from '../db/client.ts';
import { addParticipants, finishRecording, insertRecording } from '../db/recordings.ts';
import { insertRoomSession, type RoomSessionRecord } from '../db/roomSessions.ts';
import { findActiveUser } from '../db/users.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { log } from '../log.ts';
import { addReport, summarise, type QualityAggregate } from '../quality/aggregate.ts';
import { retryDelay } from '../retry.ts';
import { mediaFleet, userHub } from '../objects/stubs.ts';
import { failure, type Actor, type Outcome } from '../objects/actor.ts';
import { controlRequest, NodeDraining, NodeUnreachable } from './control.ts';

/** A room nobody is in is forgotten after this long (its id then answers not_found). */
const RETAIN_EMPTY_MS = 24 * 60 * 60 * 1000;
/** Nodes tried per placement before the room reports `media_unavailable`. */
const PLACEMENT_CANDIDATES = 3;

export interface RoomActor extends Actor {
  displayName: string;
}

interface Participant extends RoomParticipant {
  deviceId: string;
  joinedAt: number;
}

interface PlacedNode {
  nodeId: string;
  controlUrl: string;
  placedAt: number;
  rtpCapabilities: RtpCapabilities;
}

/** The recording in progress: what the room needs to end it and to attribute its tracks. */
interface ActiveRecording extends RoomRecordingInfo {
  nodeId: string;
  /** peerId -> userId of everyone who was in the room while it was recorded (tracks name peers). */
  peers: Record<string, string>;
}

/** What CallSession asks for when it opens a recorded call's room. */
export interface CallRoomOptions {
  callId: string;
  /** The only users who may join. */
  members: string[];
  /** Record, in the creator's name, as soon as something is published. */
  autoRecord: boolean;
}

interface CallRoom extends CallRoomOptions {
  /** Who the automatic recording is started by (the caller). */
  recordAs: { userId: string; displayName: string };
  /** The call ended: nobody joins any more. */
  closed: boolean;
}

interface RoomState {
  tenantId: string;
  roomId: string;
  createdBy: string;
  createdAt: number;
  /** Last join or leave: an empty room is forgotten RETAIN_EMPTY_MS after it. */
  activeAt: number;
  node: PlacedNode | null;
  participants: Participant[];
  producers: RoomProducerInfo[];
  /** Absent in rooms stored before recording existed. */
  recording?: ActiveRecording | null;
  /** Set on a recorded 1:1 call's room; absent on a conference room (any user of the tenant may join). */
  call?: CallRoom;
}

export type MigrateReason = Extract<ServerMessage, { type: 'room.migrate' }>['reason'];
export type RoomOutcome = Outcome<{ reply?: ServerMessage }>;

const STATE_KEY = 'room';
const NONCE_PREFIX = 'nonce:';
/** A signature is accepted within ±skew of the edge's clock, so its nonce must be kept for both sides of it. */
const NONCE_RETAIN_MS = 2 * CONTROL_SIGNATURE_MAX_SKEW_SECONDS * 1000;
/** Stays (room_sessions rows) not yet written to Postgres; retried from the alarm. */
const STAYS_KEY = 'stays';
/** A participant's quality aggregate lives under `quality:<peerId>` until they leave. */
const qualityKey = (peerId: string) => `quality:${peerId}`;

interface PendingStays {
  stays: RoomSessionRecord[];
  attempts: number;
  nextAttemptAt: number | null;
}

export class Room extends DurableObject<Env> {
  private queue: Promise<unknown> = Promise.resolve();

  // ---- called by the hubs ----------------------------------------------------------------

  async create(tenantId: string, roomId: string, actor: RoomActor, call?: CallRoomOptions): Promise<Outcome> {
    if (await this.load()) return failure(ErrorCode.conflict, 'room id already used');
    const now = Date.now();
    const state: RoomState = { tenantId, roomId, createdBy: actor.userId, createdAt: now, activeAt: now, node: null, participants: [], producers: [] };
    if (call) state.call = { ...call, recordAs: { userId: actor.userId, displayName: actor.displayName }, closed: false };
    await this.save(state);
    log.info('room.created', { tenantId, roomId, userId: actor.userId, callId: call?.callId });
    return { ok: true };
  }

  /** The call this room carries ended: everyone leaves (the recording completes) and nobody may join again. */
  async close(): Promise<void> {
    await this.serial(async () => {
      const state = await this.load();
      if (!state?.call || state.call.closed) return;
      state.call.closed = true;
      await this.save(state);
      log.info('room.call_closed', { ...logIds(state), callId: state.call.callId, participants: state.participants.length });
      for (const { userId, deviceId } of state.participants) await this.leave({ tenantId: state.tenantId, userId, deviceId });
    });
  }

  async act(actor: RoomActor, message: Exclude<RoomClientMessage, { type: 'room.create' }>): Promise<RoomOutcome> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such room');
    try {
      switch (message.type) {
        case 'room.join':
          return await this.serial(() => this.join(actor, message.ref));
        case 'room.leave': {
          const left = await this.serial(() => this.leave(actor));
          return left ? { ok: true } : failure(ErrorCode.invalidState, 'you are not in this room');
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
          return await this.serial(() => this.startRecording(actor));
        case 'room.recording.stop':
          return await this.serial(() => this.stopRecording(actor));
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
    await this.serial(() => this.leave(actor));
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
    if (!(await this.firstSighting(nonce))) {
      log.warn('room.event_replayed', { ...logIds(state), type: event.type });
      return false;
    }
    await this.applyNodeEvent(state, event);
    return true;
  }

  private async applyNodeEvent(state: RoomState, event: MediaNodeEvent): Promise<void> {
    const ids = logIds(state);
    switch (event.type) {
      case 'speaker.changed':
        await this.broadcast(state, { type: 'room.speaker', roomId: state.roomId, peerId: event.peerId });
        return;
      case 'producer.closed': {
        const producer = state.producers.find((p) => p.producerId === event.producerId);
        if (!producer) return; // the edge closed it itself and told everyone already
        state.producers = state.producers.filter((p) => p !== producer);
        await this.save(state);
        await this.broadcast(state, { type: 'room.producer.closed', roomId: state.roomId, producerId: producer.producerId, peerId: producer.peerId });
        return;
      }
      case 'room.empty':
        log.debug('room.node_empty', ids);
        return;
      case 'worker.died':
        log.warn('room.worker_died', { ...ids, workerPid: event.workerPid });
        await this.serial(() => this.move(event.nodeId, 'worker-died'));
        return;
      default:
        assertNever(event);
    }
  }

  /** Health check while the room is in use; forgets a room left empty long enough. */
  override async alarm(): Promise<void> {
    await this.flushStays();
    const state = await this.load();
    if (!state) return;
    await this.forgetOldNonces();
    if (state.participants.length === 0) {
      if (Date.now() - state.activeAt >= RETAIN_EMPTY_MS) {
        log.info('room.forgotten', logIds(state));
        await this.ctx.storage.deleteAll();
      } else await this.scheduleAlarm(state);
      return;
    }
    const nodeId = state.node?.nodeId ?? null;
    if (nodeId === null || !(await mediaFleet(this.env).isHealthy(nodeId))) {
      await this.serial(() => this.move(nodeId, nodeId === null ? 'node-failed' : 'node-stale'));
    }
    const current = await this.load();
    if (current) await this.scheduleAlarm(current);
  }

  // ---- membership --------------------------------------------------------------------------

  private async join(actor: RoomActor, ref: string | undefined): Promise<RoomOutcome> {
    let state = (await this.load())!;
    if (state.call && !state.call.members.includes(actor.userId)) return failure(ErrorCode.forbidden, 'this room carries a call you are not part of');
    if (state.call?.closed) return failure(ErrorCode.invalidState, 'the call has ended');
    // The same device joining again (a reload, a reconnect) replaces its earlier self.
    if (findParticipant(state, actor)) {
      await this.leave(actor);
      state = (await this.load())!;
    }
    if (state.participants.length >= config(this.env).roomMaxParticipants) return failure(ErrorCode.invalidState, 'the room is full');
    const peerId = crypto.randomUUID();
    let node = state.node ?? (await this.move(null, 'node-failed'));
    if (!node) return failure(ErrorCode.mediaUnavailable, 'no media node is available, try again shortly');
    try {
      await this.control(node, { type: 'peer.join', roomId: this.nodeRoomId, peerId });
    } catch (error) {
      if (!(error instanceof NodeUnreachable)) throw error;
      node = await this.move(node.nodeId, 'node-failed');
      if (!node) return failure(ErrorCode.mediaUnavailable, 'no media node is available, try again shortly');
      await this.control(node, { type: 'peer.join', roomId: this.nodeRoomId, peerId });
    }
    state = (await this.load())!;
    const participant: Participant = { peerId, userId: actor.userId, deviceId: actor.deviceId, displayName: actor.displayName, joinedAt: Date.now() };
    const others = state.participants;
    state.participants = [...others, participant];
    state.activeAt = participant.joinedAt;
    await this.save(state);
    await this.recordingJoined(state, participant);
    await this.scheduleAlarm(state);
    log.info('room.joined', { ...logIds(state), userId: actor.userId, deviceId: actor.deviceId, peerId, participants: state.participants.length });
    await this.broadcast(state, { type: 'room.participant.joined', roomId: state.roomId, participant: publicParticipant(participant) }, peerId);
    return {
      ok: true,
      reply: {
        type: 'room.joined',
        ref,
        roomId: state.roomId,
        peerId,
        rtpCapabilities: node.rtpCapabilities,
        participants: others.map(publicParticipant),
        producers: state.producers,
        createdBy: state.createdBy,
        recording: state.recording ? publicRecording(state.recording) : null,
      },
    };
  }

  /** Removes the device from the room (false when it was not in it); the last one out frees the node. */
  private async leave(actor: Actor): Promise<boolean> {
    const state = await this.load();
    const participant = state && findParticipant(state, actor);
    if (!state || !participant) return false;
    const theirs = state.producers.filter((p) => p.peerId === participant.peerId);
    state.participants = state.participants.filter((p) => p !== participant);
    state.producers = state.producers.filter((p) => p.peerId !== participant.peerId);
    const node = state.node;
    if (state.participants.length === 0) state.node = null;
    state.activeAt = Date.now();
    await this.save(state);
    await this.recordStay(state, participant);
    log.info('room.left', { ...logIds(state), userId: actor.userId, deviceId: actor.deviceId, peerId: participant.peerId, participants: state.participants.length });
    for (const producer of theirs) {
      await this.broadcast(state, { type: 'room.producer.closed', roomId: state.roomId, producerId: producer.producerId, peerId: producer.peerId });
    }
    await this.broadcast(state, { type: 'room.participant.left', roomId: state.roomId, peerId: participant.peerId });
    if (node && !state.node) await this.endRecording(state, node, 'completed');
    if (node) {
      // Best effort: a node that does not answer is moved away from by the next request anyway.
      const request = state.node
        ? ({ type: 'peer.leave', roomId: this.nodeRoomId, peerId: participant.peerId } as const)
        : ({ type: 'room.close', roomId: this.nodeRoomId } as const);
      await this.control(node, request).catch((error: unknown) => log.warn('room.node_cleanup_failed', { ...logIds(state), nodeId: node.nodeId, request: request.type }, error));
      if (!state.node) await mediaFleet(this.env).release(node.nodeId);
    }
    await this.scheduleAlarm(state);
    return true;
  }

  // ---- relaying to the node ---------------------------------------------------------------

  private async relay(
    state: RoomState,
    actor: Actor,
    message: Exclude<RoomClientMessage, { type: 'room.create' | 'room.join' | 'room.leave' | `room.recording.${string}` }>,
  ): Promise<RoomOutcome> {
    const participant = findParticipant(state, actor);
    if (!participant) return failure(ErrorCode.invalidState, 'join the room first');
    const node = state.node;
    if (!node) return failure(ErrorCode.mediaUnavailable, 'the room is moving to another media node; wait for room.migrate');
    const peer = { roomId: this.nodeRoomId, peerId: participant.peerId };
    const { roomId, ref } = message;
    try {
      switch (message.type) {
        case 'room.transport.create': {
          const transport = await this.control(node, { type: 'transport.create', ...peer, direction: message.direction, transport: message.transport });
          return { ok: true, reply: { type: 'room.transport.created', ref, roomId, transport } };
        }
        case 'room.transport.connect':
          await this.control(node, { type: 'transport.connect', ...peer, transportId: message.transportId, connect: message.connect });
          return { ok: true };
        case 'room.produce': {
          const { producerId } = await this.control(node, {
            type: 'producer.create',
            ...peer,
            transportId: message.transportId,
            kind: message.kind,
            source: message.source,
            rtpParameters: message.rtpParameters,
            paused: message.paused,
          });
          const producer: RoomProducerInfo = { producerId, peerId: participant.peerId, kind: message.kind, source: message.source, paused: message.paused };
          const current = await this.updated((s) => s.node?.nodeId === node.nodeId && s.participants.some((p) => p.peerId === participant.peerId), (s) => {
            s.producers.push(producer);
          });
          if (current) await this.broadcast(current, { type: 'room.producer.new', roomId, producer }, participant.peerId);
          if (current?.call?.autoRecord && !current.recording) await this.serial(() => this.recordCall());
          return { ok: true, reply: { type: 'room.produced', ref, roomId, producerId } };
        }
        case 'room.producer.pause':
        case 'room.producer.resume': {
          const paused = message.type === 'room.producer.pause';
          await this.control(node, { type: paused ? 'producer.pause' : 'producer.resume', ...peer, producerId: message.producerId });
          const current = await this.updated((s) => s.producers.some((p) => p.producerId === message.producerId), (s) => {
            s.producers = s.producers.map((p) => (p.producerId === message.producerId ? { ...p, paused } : p));
          });
          if (current) {
            await this.broadcast(current, { type: 'room.producer.paused', roomId, producerId: message.producerId, peerId: participant.peerId, paused }, participant.peerId);
          }
          return { ok: true };
        }
        case 'room.producer.close': {
          await this.control(node, { type: 'producer.close', ...peer, producerId: message.producerId });
          const current = await this.updated((s) => s.producers.some((p) => p.producerId === message.producerId), (s) => {
            s.producers = s.producers.filter((p) => p.producerId !== message.producerId);
          });
          if (current) {
            await this.broadcast(current, { type: 'room.producer.closed', roomId, producerId: message.producerId, peerId: participant.peerId }, participant.peerId);
          }
          return { ok: true };
        }
        case 'room.consume': {
          const consumer = await this.control(node, {
            type: 'consumer.create',
            ...peer,
            transportId: message.transportId,
            producerId: message.producerId,
            rtpCapabilities: message.rtpCapabilities,
          });
          return { ok: true, reply: { type: 'room.consumed', ref, roomId, consumer } };
        }
        case 'room.consumer.pause':
        case 'room.consumer.resume':
          await this.control(node, { type: message.type === 'room.consumer.pause' ? 'consumer.pause' : 'consumer.resume', ...peer, consumerId: message.consumerId });
          return { ok: true };
        case 'room.consumer.layers':
          await this.control(node, { type: 'consumer.layers', ...peer, consumerId: message.consumerId, spatialLayer: message.spatialLayer, temporalLayer: message.temporalLayer });
          return { ok: true };
        case 'room.probe':
          // Any answer will do: a node that gives none is caught below and the room moves.
          await this.control(node, { type: 'node.status' });
          return { ok: true };
        default:
          return assertNever(message);
      }
    } catch (error) {
      if (!(error instanceof NodeUnreachable)) throw error;
      log.warn('room.node_unreachable', { ...logIds(state), nodeId: node.nodeId, request: message.type }, error);
      await this.serial(() => this.move(node.nodeId, 'node-failed'));
      return failure(ErrorCode.mediaUnavailable, 'the media node failed; the room moves to another one (room.migrate follows)');
    }
  }

  // ---- recording ---------------------------------------------------------------------------

  /**
   * Starts recording every producer of the room on its node. The room's creator may, and roles
   * with `recordings.manage`; nothing published fails at once. Everyone gets `room.recording`.
   * Runs inside `serial`.
   */
  private async startRecording(actor: RoomActor): Promise<RoomOutcome> {
    const state = (await this.load())!;
    const participant = findParticipant(state, actor);
    if (!participant) return failure(ErrorCode.invalidState, 'join the room first');
    if (!(await this.mayManageRecording(state, actor))) return failure(ErrorCode.forbidden, 'only the room creator or an operator/admin may record this room');
    return this.beginRecording(state, { userId: actor.userId, displayName: actor.displayName });
  }

  /**
   * A recorded call's room records by itself once something is published (again after a move to
   * another node, which interrupts the recording). Never fails the request that triggered it.
   * Runs inside `serial`.
   */
  private async recordCall(): Promise<void> {
    const state = (await this.load())!;
    if (!state.call?.autoRecord || state.call.closed || state.recording) return;
    try {
      const outcome = await this.beginRecording(state, state.call.recordAs);
      if (!outcome.ok) log.warn('room.call_recording_failed', { ...logIds(state), callId: state.call.callId, code: outcome.code, message: outcome.message });
    } catch (error) {
      log.error('room.call_recording_failed', { ...logIds(state), callId: state.call.callId }, error);
    }
  }

  /** Starts recording every producer on the room's node, in `startedBy`'s name. Runs inside `serial`. */
  private async beginRecording(state: RoomState, startedBy: RoomRecordingInfo['startedBy']): Promise<RoomOutcome> {
    if (state.recording) return failure(ErrorCode.conflict, 'the room is already being recorded');
    if (state.producers.length === 0) return failure(ErrorCode.invalidState, 'nothing is published in this room: start recording once someone sends audio or video');
    const node = state.node;
    if (!node) return failure(ErrorCode.mediaUnavailable, 'the room is moving to another media node; try again shortly');
    const recordingId = crypto.randomUUID();
    const started = await this.control(node, { type: 'recording.start', roomId: this.nodeRoomId, recordingId });
    const recording: ActiveRecording = {
      recordingId,
      startedBy,
      startedAt: started.startedAt,
      nodeId: node.nodeId,
      peers: Object.fromEntries(state.participants.map((p) => [p.peerId, p.userId])),
    };
    try {
      await withDb(this.env, async (db) => {
        await insertRecording(db, {
          id: recordingId,
          tenantId: state.tenantId,
          roomId: state.roomId,
          callId: state.call?.callId ?? null,
          startedBy: recording.startedBy,
          startedAt: recording.startedAt,
          nodeId: node.nodeId,
          nodeUrl: node.controlUrl,
          participants: Object.values(recording.peers),
        });
        await this.audit(db, state, startedBy.userId, 'recording.started', recordingId);
      });
    } catch (error) {
      // No row, no recording: files nobody could ever list are not kept running.
      await this.control(node, { type: 'recording.stop', roomId: this.nodeRoomId, recordingId }).catch(() => undefined);
      throw error;
    }
    const current = (await this.load())!;
    current.recording = recording;
    await this.save(current);
    log.info('room.recording_started', { ...logIds(current), recordingId, userId: startedBy.userId, tracks: started.tracks });
    await this.broadcast(current, { type: 'room.recording', roomId: current.roomId, recording: publicRecording(recording) });
    return { ok: true };
  }

  /** Stops the recording (same permission as starting it). Runs inside `serial`. */
  private async stopRecording(actor: RoomActor): Promise<RoomOutcome> {
    const state = (await this.load())!;
    if (!findParticipant(state, actor)) return failure(ErrorCode.invalidState, 'join the room first');
    if (!(await this.mayManageRecording(state, actor))) return failure(ErrorCode.forbidden, 'only the room creator or an operator/admin may stop recording this room');
    if (!state.recording) return failure(ErrorCode.invalidState, 'the room is not being recorded');
    if (!state.node) return failure(ErrorCode.mediaUnavailable, 'the room is moving to another media node; try again shortly');
    const { recordingId } = state.recording;
    await this.endRecording(state, state.node, 'completed');
    await withDb(this.env, (db) => this.audit(db, state, actor.userId, 'recording.stopped', recordingId));
    log.info('room.recording_stopped', { ...logIds(state), recordingId, userId: actor.userId });
    return { ok: true };
  }

  /**
   * Ends the recording in progress (if any): asks `node` for its tracks (an unreachable node
   * leaves the recording `interrupted` without them), closes the row, tells everyone still in the
   * room. Changes and saves `state`; never throws, so leaving and failover go on.
   */
  private async endRecording(state: RoomState, node: PlacedNode, status: 'completed' | 'interrupted'): Promise<void> {
    const recording = state.recording;
    if (!recording) return;
    state.recording = null;
    await this.save(state);
    let tracks: RecordedTrack[] = [];
    let endedAt = Date.now();
    const stopped = await this.stopOnNode(node, recording);
    if (stopped) {
      tracks = stopped.tracks;
      endedAt = stopped.endedAt;
      if (stopped.reason === 'room-closed') status = 'interrupted';
    } else status = 'interrupted';
    try {
      await withDb(this.env, (db) =>
        finishRecording(db, recording.recordingId, { status, endedAt, tracks: tracks.map((track) => ({ ...track, userId: recording.peers[track.peerId] ?? null })) }),
      );
    } catch (error) {
      log.error('room.recording_row_failed', { ...logIds(state), recordingId: recording.recordingId }, error);
    }
    log.info('room.recording_ended', { ...logIds(state), recordingId: recording.recordingId, status, tracks: tracks.length });
    await this.broadcast(state, { type: 'room.recording', roomId: state.roomId, recording: null });
  }

  private async stopOnNode(node: PlacedNode, recording: ActiveRecording) {
    if (node.nodeId !== recording.nodeId) return null;
    try {
      return await this.control(node, { type: 'recording.stop', roomId: this.nodeRoomId, recordingId: recording.recordingId });
    } catch (error) {
      log.warn('room.recording_stop_failed', { nodeId: node.nodeId, recordingId: recording.recordingId }, error);
      return null;
    }
  }

  /** Someone joined while recording: they may download it, and their tracks are theirs. */
  private async recordingJoined(state: RoomState, participant: Participant): Promise<void> {
    const recording = state.recording;
    if (!recording) return;
    recording.peers[participant.peerId] = participant.userId;
    await this.save(state);
    await withDb(this.env, (db) => addParticipants(db, recording.recordingId, [participant.userId])).catch((error: unknown) =>
      log.error('room.recording_participant_failed', { ...logIds(state), recordingId: recording.recordingId, userId: participant.userId }, error),
    );
  }

  private audit(db: Parameters<typeof recordAudit>[0], state: RoomState, actorId: string, action: string, recordingId: string) {
    return recordAudit(db, { tenantId: state.tenantId, actorType: 'user', actorId, action, targetType: 'recording', targetId: recordingId, details: { roomId: state.roomId } });
  }

  /** The room's creator, or a role with `recordings.manage` (read from the database: roles change). */
  private async mayManageRecording(state: RoomState, actor: RoomActor): Promise<boolean> {
    if (actor.userId === state.createdBy) return true;
    const user = await withDb(this.env, (db) => findActiveUser(db, state.tenantId, actor.userId));
    return user !== null && can(user.role, 'recordings.manage');
  }

  // ---- placement and failover ---------------------------------------------------------------

  /**
   * Moves the room off `from` (null: the room has no node) to a healthy node, joins every
   * participant there and tells them to rebuild (`room.migrate`). Does nothing when the room is no
   * longer on `from` (another request moved it first). Returns the node the room is on, or null.
   * Runs inside `serial`.
   */
  private async move(from: string | null, reason: MigrateReason): Promise<PlacedNode | null> {
    const state = await this.load();
    if (!state) return null;
    if ((state.node?.nodeId ?? null) !== from) return state.node;
    const fleet = mediaFleet(this.env);
    if (state.node) await this.endRecording(state, state.node, 'interrupted');
    if (from !== null) {
      // A dead worker is the node's own business: the node itself is fine to host the room again.
      if (reason !== 'worker-died') await fleet.reportFailure(from);
      await fleet.release(from);
    }
    const node = await this.place(state, reason === 'worker-died' || from === null ? [] : [from]);
    state.node = node;
    state.producers = [];
    if (node) {
      try {
        for (const participant of state.participants) {
          await this.control(node, { type: 'peer.join', roomId: this.nodeRoomId, peerId: participant.peerId });
        }
      } catch (error) {
        log.error('room.rejoin_failed', { ...logIds(state), nodeId: node.nodeId }, error);
        await fleet.release(node.nodeId);
        state.node = null;
      }
    }
    await this.save(state);
    await this.scheduleAlarm(state);
    if (!state.node) {
      if (state.participants.length > 0) log.error('room.no_node', { ...logIds(state), from, reason });
      return null;
    }
    if (state.participants.length > 0) {
      // Whatever they had on the old node (or on none, after a failed move) is gone.
      log.warn('room.migrated', { ...logIds(state), from, nodeId: state.node.nodeId, reason, participants: state.participants.length });
      await this.broadcast(state, { type: 'room.migrate', roomId: state.roomId, rtpCapabilities: state.node.rtpCapabilities, reason });
    } else {
      log.info('room.placed', { ...logIds(state), nodeId: state.node.nodeId });
    }
    return state.node;
  }

  /** Creates the room on the least-loaded usable node, trying a few candidates. */
  private async place(state: RoomState, exclude: string[]): Promise<PlacedNode | null> {
    const fleet = mediaFleet(this.env);
    const skip = [...exclude];
    for (let attempt = 0; attempt < PLACEMENT_CANDIDATES; attempt++) {
      const candidate = await fleet.pick(skip);
      if (!candidate) return null;
      try {
        const created = await controlRequest(candidate.controlUrl, this.secret, { type: 'room.create', roomId: this.nodeRoomId });
        return { ...candidate, placedAt: Date.now(), rtpCapabilities: created.rtpCapabilities };
      } catch (error) {
        if (!(error instanceof NodeUnreachable || error instanceof NodeDraining)) throw error;
        log.warn('room.placement_failed', { ...logIds(state), nodeId: candidate.nodeId }, error);
        if (error instanceof NodeUnreachable) await fleet.reportFailure(candidate.nodeId);
        await fleet.release(candidate.nodeId);
        skip.push(candidate.nodeId);
      }
    }
    return null;
  }

  // ---- room session CDRs -------------------------------------------------------------------

  /** A participant left: their stay, with its quality, becomes a `room_sessions` row. */
  private async recordStay(state: RoomState, participant: Participant): Promise<void> {
    const key = qualityKey(participant.peerId);
    const aggregate = await this.ctx.storage.get<QualityAggregate>(key);
    const stay: RoomSessionRecord = {
      sessionId: participant.peerId,
      tenantId: state.tenantId,
      roomId: state.roomId,
      userId: participant.userId,
      joinedAt: participant.joinedAt,
      leftAt: Date.now(),
      quality: aggregate ? summarise(aggregate) : null,
    };
    const pending = (await this.ctx.storage.get<PendingStays>(STAYS_KEY)) ?? { stays: [], attempts: 0, nextAttemptAt: null };
    await this.ctx.storage.put<PendingStays>(STAYS_KEY, { ...pending, stays: [...pending.stays, stay] });
    await this.ctx.storage.delete(key);
    await this.flushStays();
  }

  /** Writes pending stays; on failure keeps them and retries from the alarm with backoff, so none is lost. */
  private async flushStays(): Promise<void> {
    const pending = await this.ctx.storage.get<PendingStays>(STAYS_KEY);
    if (!pending || pending.stays.length === 0) return;
    try {
      await withTransaction(this.env, async (db) => {
        for (const stay of pending.stays) await insertRoomSession(db, stay);
      });
      // Stays recorded while the write was under way wait for the next flush.
      const written = new Set(pending.stays.map((stay) => stay.sessionId));
      const rest = ((await this.ctx.storage.get<PendingStays>(STAYS_KEY))?.stays ?? []).filter((stay) => !written.has(stay.sessionId));
      if (rest.length === 0) await this.ctx.storage.delete(STAYS_KEY);
      else await this.ctx.storage.put<PendingStays>(STAYS_KEY, { stays: rest, attempts: 0, nextAttemptAt: null });
    } catch (error) {
      const current = (await this.ctx.storage.get<PendingStays>(STAYS_KEY)) ?? pending;
      const attempts = current.attempts + 1;
      const nextAttemptAt = Date.now() + retryDelay(attempts);
      log.warn('room.stays_write_failed', { tenantId: pending.stays[0]?.tenantId, roomId: pending.stays[0]?.roomId, stays: current.stays.length, attempts }, error);
      await this.ctx.storage.put<PendingStays>(STAYS_KEY, { ...current, attempts, nextAttemptAt });
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > nextAttemptAt) await this.ctx.storage.setAlarm(nextAttemptAt);
    }
  }

  /** When pending stays are due again (Infinity when none wait). */
  private async staysDueAt(): Promise<number> {
    return (await this.ctx.storage.get<PendingStays>(STAYS_KEY))?.nextAttemptAt ?? Infinity;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private control<R extends Parameters<typeof controlRequest>[2]>(node: PlacedNode, request: R) {
    return controlRequest(node.controlUrl, this.secret, request);
  }

  private get secret(): string {
    const secret = config(this.env).mediaControlSecret;
    if (!secret) throw new ApiError(ErrorCode.mediaUnavailable, 'conference rooms are not configured');
    return secret;
  }

  /** The node's name for this room: this object's id, which the Worker turns back into a stub. */
  private get nodeRoomId(): string {
    return this.ctx.id.toString();
  }

  /** Runs membership and placement changes one at a time (relays need not wait). */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Loads, applies `change` when `when` still holds, saves; the stored state or null. */
  private async updated(when: (state: RoomState) => boolean, change: (state: RoomState) => void): Promise<RoomState | null> {
    const state = await this.load();
    if (!state || !when(state)) return null;
    change(state);
    await this.save(state);
    return state;
  }

  /** Sends a message to every participant's device (but `exceptPeer`); a failing hub is logged. */
  private async broadcast(state: RoomState, message: ServerMessage, exceptPeer?: string): Promise<void> {
    await Promise.all(
      state.participants
        .filter((p) => p.peerId !== exceptPeer)
        .map((p) =>
          userHub(this.env, state.tenantId, p.userId)
            .deliver(message, { only: p.deviceId })
            .catch((error: unknown) => log.warn('room.deliver_failed', { ...logIds(state), userId: p.userId, type: message.type }, error)),
        ),
    );
  }

  /** Records a node event's nonce; false when it was already there. */
  private async firstSighting(nonce: string): Promise<boolean> {
    const key = `${NONCE_PREFIX}${nonce}`;
    if ((await this.ctx.storage.get(key)) !== undefined) return false;
    await this.ctx.storage.put(key, Date.now() + NONCE_RETAIN_MS);
    return true;
  }

  private async forgetOldNonces(): Promise<void> {
    const now = Date.now();
    const nonces = await this.ctx.storage.list<number>({ prefix: NONCE_PREFIX });
    const expired = [...nonces].filter(([, until]) => until <= now).map(([key]) => key);
    // storage.delete takes at most 128 keys per call.
    for (let i = 0; i < expired.length; i += 128) await this.ctx.storage.delete(expired.slice(i, i + 128));
  }

  private async scheduleAlarm(state: RoomState): Promise<void> {
    const at =
      state.participants.length > 0
        ? Date.now() + healthCheckMs(this.env)
        : state.activeAt + RETAIN_EMPTY_MS;
    await this.ctx.storage.setAlarm(Math.min(at, await this.staysDueAt()));
  }

  private async save(state: RoomState): Promise<void> {
    await this.ctx.storage.put(STATE_KEY, state);
  }

  private load(): Promise<RoomState | undefined> {
    return this.ctx.storage.get<RoomState>(STATE_KEY);
  }
}

function findParticipant(state: RoomState, actor: Actor): Participant | undefined {
  return state.participants.find((p) => p.userId === actor.userId && p.deviceId === actor.deviceId);
}

function publicParticipant({ peerId, userId, displayName }: Participant): RoomParticipant {
  return { peerId, userId, displayName };
}

function publicRecording({ recordingId, startedBy, startedAt }: ActiveRecording): RoomRecordingInfo {
  return { recordingId, startedBy, startedAt };
}

/** How often an occupied room checks its node's registration: a third of the TTL, 5-60 s. */
function healthCheckMs(env: Env): number {
  return Math.min(60_000, Math.max(5_000, config(env).mediaNodeTtlMs / 3));
}

function logIds(state: RoomState) {
  return { tenantId: state.tenantId, roomId: state.roomId, nodeId: state.node?.nodeId };
}
