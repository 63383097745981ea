/**
 * The room's rules as pure functions: (state, event, now) -> new state + effects, or a refusal.
 * The Room object loads its state, applies one of these, saves the result and only then carries
 * out the effects (roomTypes.ts `RoomEffect`), in order. What needs the network (creating the room
 * on a node, joining a peer there, a producer the node made, a recording it started) happens in
 * the object or its collaborators, and its answer comes back here as an event.
 *
 *   join: mayJoin -> (same device: leave) -> hasRoom -> [placed on a node] -> [peer.join] -> joined
 *   node fails: nodeLost -> [room.create on another node, every peer joined] -> placed (room.migrate)
 */
import {
  assertNever,
  ErrorCode,
  type MediaNodeEvent,
  type RoomParticipant,
  type RoomProducerInfo,
  type RoomRecordingInfo,
  type ServerMessage,
} from '@callstack/protocol';
import { failure, type Actor, type Outcome } from '../objects/actor.ts';
import type {
  ActiveRecording,
  Applied,
  CallRoomOptions,
  MigrateReason,
  Participant,
  PlacedNode,
  Recipient,
  RoomActor,
  RoomEffect,
  RoomState,
  Transition,
} from './roomTypes.ts';

/** A room nobody is in is forgotten after this long (its id then answers not_found). */
export const RETAIN_EMPTY_MS = 24 * 60 * 60 * 1000;

const unchanged = (state: RoomState): Applied => ({ ok: true, state, effects: [] });

export function newRoom(tenantId: string, roomId: string, actor: RoomActor, call: CallRoomOptions | undefined, now: number): RoomState {
  const state: RoomState = { tenantId, roomId, createdBy: actor.userId, createdAt: now, activeAt: now, node: null, participants: [], producers: [] };
  if (call) state.call = { ...call, recordAs: { userId: actor.userId, displayName: actor.displayName }, closed: false };
  return state;
}

export function findParticipant(state: RoomState, actor: Actor): Participant | undefined {
  return state.participants.find((p) => p.userId === actor.userId && p.deviceId === actor.deviceId);
}

// ---- membership ------------------------------------------------------------------------------

/** Who may join at all: a recorded call's room admits only the call's parties, and only until the call ends. */
export function mayJoin(state: RoomState, actor: Actor): Outcome {
  if (state.call && !state.call.members.includes(actor.userId)) return failure(ErrorCode.forbidden, 'this room carries a call you are not part of');
  if (state.call?.closed) return failure(ErrorCode.invalidState, 'the call has ended');
  return { ok: true };
}

/** Checked after the joining device's earlier self (a reload, a reconnect) has left. */
export function hasRoom(state: RoomState, maxParticipants: number): Outcome {
  return state.participants.length >= maxParticipants ? failure(ErrorCode.invalidState, 'the room is full') : { ok: true };
}

/** The node answered `peer.join` for `participant`: they are in, the others hear of them. */
export function joined(state: RoomState, participant: Participant, node: PlacedNode, ref: string | undefined): Applied & { reply: ServerMessage } {
  const others = state.participants;
  const recording = state.recording ? { ...state.recording, peers: { ...state.recording.peers, [participant.peerId]: participant.userId } } : state.recording;
  const next: RoomState = { ...state, participants: [...others, participant], activeAt: participant.joinedAt, recording };
  return {
    ok: true,
    state: next,
    effects: [
      ...(recording ? [{ kind: 'recording.participant', recordingId: recording.recordingId, userId: participant.userId } as const] : []),
      { kind: 'alarm' },
      ...broadcast(others, { type: 'room.participant.joined', roomId: state.roomId, participant: publicParticipant(participant) }),
    ],
    reply: {
      type: 'room.joined',
      ref,
      roomId: state.roomId,
      peerId: participant.peerId,
      rtpCapabilities: node.rtpCapabilities,
      participants: others.map(publicParticipant),
      producers: state.producers,
      createdBy: state.createdBy,
      recording: recording ? publicRecording(recording) : null,
    },
  };
}

/**
 * The device leaves: its stay is recorded, the others hear of it and of its producers' end. The
 * last one out ends the recording, closes the room on its node and frees the node.
 */
export function leave(state: RoomState, actor: Actor, now: number): Transition {
  const participant = findParticipant(state, actor);
  if (!participant) return failure(ErrorCode.invalidState, 'you are not in this room');
  const rest = state.participants.filter((p) => p !== participant);
  const theirs = state.producers.filter((p) => p.peerId === participant.peerId);
  const node = state.node;
  const last = rest.length === 0;
  const ending = last && node && state.recording ? state.recording : null;
  const next: RoomState = {
    ...state,
    participants: rest,
    producers: state.producers.filter((p) => p.peerId !== participant.peerId),
    node: last ? null : node,
    activeAt: now,
    ...(ending ? { recording: null } : {}),
  };
  const effects: RoomEffect[] = [
    { kind: 'stay', participant, leftAt: now },
    ...theirs.flatMap((producer) =>
      broadcast(rest, { type: 'room.producer.closed', roomId: state.roomId, producerId: producer.producerId, peerId: producer.peerId }),
    ),
    ...broadcast(rest, { type: 'room.participant.left', roomId: state.roomId, peerId: participant.peerId }),
  ];
  if (node) {
    if (ending) effects.push(...endRecording(rest, state.roomId, ending, node, 'completed'));
    effects.push({ kind: 'node.cleanup', node, request: last ? { type: 'room.close' } : { type: 'peer.leave', peerId: participant.peerId } });
    if (last) effects.push({ kind: 'node.release', nodeId: node.nodeId });
  }
  effects.push({ kind: 'alarm' });
  return { ok: true, state: next, effects };
}

/** The call this room carries ended: nobody joins again (everyone still in then leaves). */
export function callClosed(state: RoomState): Applied {
  if (!state.call || state.call.closed) return unchanged(state);
  return { ok: true, state: { ...state, call: { ...state.call, closed: true } }, effects: [] };
}

/** Media requests come from a participant, to the room's node. */
export function relayTarget(state: RoomState, actor: Actor): Outcome<{ participant: Participant; node: PlacedNode }> {
  const participant = findParticipant(state, actor);
  if (!participant) return failure(ErrorCode.invalidState, 'join the room first');
  if (!state.node) return failure(ErrorCode.mediaUnavailable, 'the room is moving to another media node; wait for room.migrate');
  return { ok: true, participant, node: state.node };
}

// ---- producers -------------------------------------------------------------------------------

/** What a relayed request changed on the node that the others must hear of. */
export type ProducerEvent =
  | { type: 'producer.created'; producer: RoomProducerInfo }
  | { type: 'producer.paused'; producerId: string; paused: boolean }
  | { type: 'producer.closed'; producerId: string };

/** A participant's request the node carried out on `nodeId`, applied to the room as it is now. */
export function producerChanged(state: RoomState, nodeId: string, peerId: string, event: ProducerEvent): Applied {
  const known = (producerId: string) => state.producers.some((p) => p.producerId === producerId);
  const others = state.participants.filter((p) => p.peerId !== peerId);
  switch (event.type) {
    case 'producer.created': {
      // Made on a node the room has since left, or by someone who has since left: gone with them.
      if (state.node?.nodeId !== nodeId || !state.participants.some((p) => p.peerId === peerId)) return unchanged(state);
      const next = { ...state, producers: [...state.producers, event.producer] };
      return {
        ok: true,
        state: next,
        effects: [
          ...broadcast(others, { type: 'room.producer.new', roomId: state.roomId, producer: event.producer }),
          ...(next.call?.autoRecord && !next.recording ? [{ kind: 'recording.auto' } as const] : []),
        ],
      };
    }
    case 'producer.paused': {
      if (!known(event.producerId)) return unchanged(state);
      const { producerId, paused } = event;
      return {
        ok: true,
        state: { ...state, producers: state.producers.map((p) => (p.producerId === producerId ? { ...p, paused } : p)) },
        effects: broadcast(others, { type: 'room.producer.paused', roomId: state.roomId, producerId, peerId, paused }),
      };
    }
    case 'producer.closed': {
      if (!known(event.producerId)) return unchanged(state);
      const { producerId } = event;
      return {
        ok: true,
        state: { ...state, producers: state.producers.filter((p) => p.producerId !== producerId) },
        effects: broadcast(others, { type: 'room.producer.closed', roomId: state.roomId, producerId, peerId }),
      };
    }
    default:
      return assertNever(event);
  }
}

/** Events of the node the room is on that concern its participants (the others are the object's). */
export function nodeReported(state: RoomState, event: Extract<MediaNodeEvent, { type: 'speaker.changed' | 'producer.closed' }>): Applied {
  switch (event.type) {
    case 'speaker.changed':
      return { ok: true, state, effects: broadcast(state.participants, { type: 'room.speaker', roomId: state.roomId, peerId: event.peerId }) };
    case 'producer.closed': {
      const producer = state.producers.find((p) => p.producerId === event.producerId);
      if (!producer) return unchanged(state); // the edge closed it itself and told everyone already
      return {
        ok: true,
        state: { ...state, producers: state.producers.filter((p) => p !== producer) },
        effects: broadcast(state.participants, {
          type: 'room.producer.closed',
          roomId: state.roomId,
          producerId: producer.producerId,
          peerId: producer.peerId,
        }),
      };
    }
    default:
      return assertNever(event);
  }
}

// ---- placement and failover ------------------------------------------------------------------

/**
 * The room's node `from` failed (or its worker died): the room leaves it, interrupting the
 * recording. Null when the room is no longer on `from` (another request moved it first).
 * `exclude` is what the next placement must not pick: a dead worker leaves the node eligible.
 */
export function nodeLost(state: RoomState, from: string, reason: MigrateReason): (Applied & { exclude: string[] }) | null {
  const node = state.node;
  if (!node || node.nodeId !== from) return null;
  const recording = state.recording;
  const workerDied = reason === 'worker-died';
  return {
    ok: true,
    state: { ...state, node: null, producers: [], ...(recording ? { recording: null } : {}) },
    effects: [
      ...(recording ? endRecording(state.participants, state.roomId, recording, node, 'interrupted') : []),
      ...(workerDied ? [] : [{ kind: 'node.failed', nodeId: from } as const]),
      { kind: 'node.release', nodeId: from },
    ],
    exclude: workerDied ? [] : [from],
  };
}

/**
 * The room was created on `node`, with everyone already in it joined there (null: no node could
 * take it; the participants keep their place and the health check tries again). Participants who
 * had media elsewhere rebuild it (`room.migrate`); whatever they produced is gone.
 */
export function placed(state: RoomState, node: PlacedNode | null, reason: MigrateReason): Applied {
  const next: RoomState = { ...state, node, producers: [] };
  const migrate = node ? broadcast(state.participants, { type: 'room.migrate', roomId: state.roomId, rtpCapabilities: node.rtpCapabilities, reason }) : [];
  return { ok: true, state: next, effects: [{ kind: 'alarm' }, ...migrate] };
}

// ---- recording -------------------------------------------------------------------------------

/** Whether a recording may start now (permission is the object's: it needs the database). */
export function mayBeginRecording(state: RoomState): Outcome<{ node: PlacedNode }> {
  if (state.recording) return failure(ErrorCode.conflict, 'the room is already being recorded');
  if (state.producers.length === 0)
    return failure(ErrorCode.invalidState, 'nothing is published in this room: start recording once someone sends audio or video');
  if (!state.node) return failure(ErrorCode.mediaUnavailable, 'the room is moving to another media node; try again shortly');
  return { ok: true, node: state.node };
}

/** The recording the node just started, with everyone now in the room as its participants. */
export function newRecording(
  state: RoomState,
  node: PlacedNode,
  recordingId: string,
  startedBy: RoomRecordingInfo['startedBy'],
  startedAt: number,
): ActiveRecording {
  return { recordingId, startedBy, startedAt, nodeId: node.nodeId, peers: Object.fromEntries(state.participants.map((p) => [p.peerId, p.userId])) };
}

/** The node records and the row is written: everyone sees the indicator. */
export function recordingStarted(state: RoomState, recording: ActiveRecording): Applied {
  return {
    ok: true,
    state: { ...state, recording },
    effects: broadcast(state.participants, { type: 'room.recording', roomId: state.roomId, recording: publicRecording(recording) }),
  };
}

/** Stops the recording in progress (permission checked by the object). */
export function stopRecording(state: RoomState): Outcome<Applied & { recording: ActiveRecording }> {
  const recording = state.recording;
  if (!recording) return failure(ErrorCode.invalidState, 'the room is not being recorded');
  if (!state.node) return failure(ErrorCode.mediaUnavailable, 'the room is moving to another media node; try again shortly');
  return {
    ok: true,
    state: { ...state, recording: null },
    effects: endRecording(state.participants, state.roomId, recording, state.node, 'completed'),
    recording,
  };
}

/** Whether a recorded call's room should record by itself now. */
export function shouldAutoRecord(state: RoomState): boolean {
  return Boolean(state.call?.autoRecord && !state.call.closed && !state.recording);
}

// ---- deadlines -------------------------------------------------------------------------------

/** When the room next needs its alarm: the health check while occupied, else the time to forget it. */
export function roomDeadline(state: RoomState, now: number, healthCheckMs: number): number {
  return state.participants.length > 0 ? now + healthCheckMs : state.activeAt + RETAIN_EMPTY_MS;
}

export function isForgotten(state: RoomState, now: number): boolean {
  return state.participants.length === 0 && now - state.activeAt >= RETAIN_EMPTY_MS;
}

// ---- helpers ---------------------------------------------------------------------------------

/** The fields every log line about the room carries. */
export function logIds(state: RoomState) {
  return { tenantId: state.tenantId, roomId: state.roomId, nodeId: state.node?.nodeId };
}

function endRecording(to: Recipient[], roomId: string, recording: ActiveRecording, node: PlacedNode, status: 'completed' | 'interrupted'): RoomEffect[] {
  return [{ kind: 'recording.end', recording, node, status }, ...broadcast(to, { type: 'room.recording', roomId, recording: null })];
}

/** One broadcast effect to `to` (none when nobody is there to hear it). */
function broadcast(to: Recipient[], message: ServerMessage): RoomEffect[] {
  return to.length === 0 ? [] : [{ kind: 'broadcast', to: to.map(({ peerId, userId, deviceId }) => ({ peerId, userId, deviceId })), message }];
}

function publicParticipant({ peerId, userId, displayName }: Participant): RoomParticipant {
  return { peerId, userId, displayName };
}

function publicRecording({ recordingId, startedBy, startedAt }: ActiveRecording): RoomRecordingInfo {
  return { recordingId, startedBy, startedAt };
}
