/**
 * Recording a room: one ffmpeg per track on its node, a row in Postgres (`recordings`) and an
 * audit entry per start and stop. The room's creator may start and stop it, and roles with
 * `recordings.manage`; a recorded 1:1 call's room records by itself, in the caller's name, once
 * something is published (again after a move, which interrupts the recording). The rules are
 * roomState's; this is the node, the database and the order they are asked in. `start`, `stop`
 * and `recordCall` run inside the Room object's serial queue.
 */
import { can, ErrorCode, type RecordedTrack, type RoomRecordingInfo } from '@callstack/protocol';
import { recordAudit } from '../db/audit.ts';
import { withDb } from '../db/client.ts';
import { addParticipants, finishRecording, insertRecording } from '../db/recordings.ts';
import { findActiveUser } from '../db/users.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { failure, type Outcome } from '../objects/actor.ts';
import { findParticipant, logIds, mayBeginRecording, newRecording, recordingStarted, shouldAutoRecord, stopRecording } from './roomState.ts';
import type { RoomNode } from './RoomNode.ts';
import type { ActiveRecording, PlacedNode, RoomActor, RoomEffect, RoomOutcome, RoomState, RoomStore } from './roomTypes.ts';

export class RoomRecording {
  constructor(
    private readonly env: Env,
    private readonly control: RoomNode,
    private readonly store: RoomStore,
  ) {}

  /** Starts recording every producer of the room; nothing published fails at once. Everyone gets `room.recording`. */
  async start(actor: RoomActor): Promise<RoomOutcome> {
    const state = await this.loadAs(actor);
    if (!state.ok) return state;
    if (!(await this.mayManage(state.room, actor))) return failure(ErrorCode.forbidden, 'only the room creator or an operator/admin may record this room');
    return this.begin(state.room, { userId: actor.userId, displayName: actor.displayName });
  }

  /** Stops the recording (same permission as starting it). */
  async stop(actor: RoomActor): Promise<RoomOutcome> {
    const state = await this.loadAs(actor);
    if (!state.ok) return state;
    const room = state.room;
    if (!(await this.mayManage(room, actor))) return failure(ErrorCode.forbidden, 'only the room creator or an operator/admin may stop recording this room');
    const stopping = stopRecording(room);
    if (!stopping.ok) return stopping;
    const { recordingId } = stopping.recording;
    await this.store.commit(room, stopping);
    await withDb(this.env, (db) => this.audit(db, room, actor.userId, 'recording.stopped', recordingId));
    log.info('room.recording_stopped', { ...logIds(room), recordingId, userId: actor.userId });
    return { ok: true };
  }

  /** A recorded call's room records by itself; never fails the request that triggered it. */
  async recordCall(): Promise<void> {
    const state = await this.store.load();
    if (!state?.call || !shouldAutoRecord(state)) return;
    const ids = { ...logIds(state), callId: state.call.callId };
    try {
      const outcome = await this.begin(state, state.call.recordAs);
      if (!outcome.ok) log.warn('room.call_recording_failed', { ...ids, code: outcome.code, message: outcome.message });
    } catch (error) {
      log.error('room.call_recording_failed', ids, error);
    }
  }

  /**
   * The `recording.end` effect: asks `node` for the tracks (an unreachable node, or another node
   * than the recording's, leaves the recording `interrupted` without them) and closes the row.
   * Never throws, so leaving and failover go on.
   */
  async end(state: RoomState, { recording, node, status }: Extract<RoomEffect, { kind: 'recording.end' }>): Promise<void> {
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
        finishRecording(db, recording.recordingId, {
          status,
          endedAt,
          tracks: tracks.map((track) => ({ ...track, userId: recording.peers[track.peerId] ?? null })),
        }),
      );
    } catch (error) {
      log.error('room.recording_row_failed', { ...logIds(state), recordingId: recording.recordingId }, error);
    }
    log.info('room.recording_ended', { ...logIds(state), recordingId: recording.recordingId, status, tracks: tracks.length });
  }

  /** The `recording.participant` effect: whoever joined while recording may download it. */
  async addParticipant(state: RoomState, recordingId: string, userId: string): Promise<void> {
    await withDb(this.env, (db) => addParticipants(db, recordingId, [userId])).catch((error: unknown) =>
      log.error('room.recording_participant_failed', { ...logIds(state), recordingId, userId }, error),
    );
  }

  /** Starts recording on the room's node in `startedBy`'s name; no row, no recording. */
  private async begin(state: RoomState, startedBy: RoomRecordingInfo['startedBy']): Promise<RoomOutcome> {
    const allowed = mayBeginRecording(state);
    if (!allowed.ok) return allowed;
    const { node } = allowed;
    const recordingId = crypto.randomUUID();
    const started = await this.control.send(node, { type: 'recording.start', roomId: this.control.roomId, recordingId });
    const recording = newRecording(state, node, recordingId, startedBy, started.startedAt);
    try {
      await withDb(this.env, async (db) => {
        await insertRecording(db, {
          id: recordingId,
          tenantId: state.tenantId,
          roomId: state.roomId,
          callId: state.call?.callId ?? null,
          startedBy,
          startedAt: recording.startedAt,
          nodeId: node.nodeId,
          nodeUrl: node.controlUrl,
          participants: Object.values(recording.peers),
        });
        await this.audit(db, state, startedBy.userId, 'recording.started', recordingId);
      });
    } catch (error) {
      // Files nobody could ever list are not kept running.
      await this.control.send(node, { type: 'recording.stop', roomId: this.control.roomId, recordingId }).catch(() => undefined);
      throw error;
    }
    const current = (await this.store.load()) ?? state;
    await this.store.commit(current, recordingStarted(current, recording));
    log.info('room.recording_started', { ...logIds(current), recordingId, userId: startedBy.userId, tracks: started.tracks });
    return { ok: true };
  }

  private async stopOnNode(node: PlacedNode, recording: ActiveRecording) {
    if (node.nodeId !== recording.nodeId) return null;
    try {
      return await this.control.send(node, { type: 'recording.stop', roomId: this.control.roomId, recordingId: recording.recordingId });
    } catch (error) {
      log.warn('room.recording_stop_failed', { nodeId: node.nodeId, recordingId: recording.recordingId }, error);
      return null;
    }
  }

  /** The room, when the actor is in it: recording is managed from inside the room. */
  private async loadAs(actor: RoomActor): Promise<Outcome<{ room: RoomState }>> {
    const room = await this.store.load();
    if (!room || !findParticipant(room, actor)) return failure(ErrorCode.invalidState, 'join the room first');
    return { ok: true, room };
  }

  /** The room's creator, or a role with `recordings.manage` (read from the database: roles change). */
  private async mayManage(state: RoomState, actor: RoomActor): Promise<boolean> {
    if (actor.userId === state.createdBy) return true;
    const user = await withDb(this.env, (db) => findActiveUser(db, state.tenantId, actor.userId));
    return user !== null && can(user.role, 'recordings.manage');
  }

  private audit(db: Parameters<typeof recordAudit>[0], state: RoomState, actorId: string, action: string, recordingId: string) {
    return recordAudit(db, {
      tenantId: state.tenantId,
      actorType: 'user',
      actorId,
      action,
      targetType: 'recording',
      targetId: recordingId,
      details: { roomId: state.roomId },
    });
  }
}
