/**
 * The room's vocabulary, shared by the state machine (roomState.ts), the Room object and its
 * collaborators. `RoomState` is stored as one record under `room`; its shape is what rooms stored
 * before this split hold, so they load unchanged.
 */
import type { NodeCandidate } from '../fleet/MediaFleet.ts';
import type { RoomParticipant, RoomProducerInfo, RoomRecordingInfo, RtpCapabilities, ServerMessage } from '@callstack/protocol';
import type { Failure, NamedActor, Outcome } from '../objects/actor.ts';

export type RoomActor = NamedActor;

export interface Participant extends RoomParticipant {
  deviceId: string;
  joinedAt: number;
}

export interface PlacedNode extends NodeCandidate {
  placedAt: number;
  rtpCapabilities: RtpCapabilities;
}

/** The recording in progress: what the room needs to end it and to attribute its tracks. */
export interface ActiveRecording extends RoomRecordingInfo {
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

export interface CallRoom extends CallRoomOptions {
  /** Who the automatic recording is started by (the caller). */
  recordAs: RoomRecordingInfo['startedBy'];
  /** The call ended: nobody joins any more. */
  closed: boolean;
}

export interface RoomState {
  tenantId: string;
  roomId: string;
  createdBy: string;
  createdAt: number;
  /** Last join or leave: an empty room is forgotten 24 h after it. */
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

/** Who a broadcast reaches: one device of one user. */
export type Recipient = Pick<Participant, 'peerId' | 'userId' | 'deviceId'>;

/** What the room asks its node on the way out (the object names the room); a node that does not answer is not waited for. */
export type CleanupRequest = { type: 'room.close' } | { type: 'peer.leave'; peerId: string };

/**
 * What a transition asks the object to do, in order, after the new state is saved. Each is
 * carried out one after the other (a broadcast reaches its recipients concurrently).
 */
export type RoomEffect =
  | { kind: 'broadcast'; to: Recipient[]; message: ServerMessage }
  /** A participant left: their stay (with the quality the object keeps for them) becomes a room_sessions row. */
  | { kind: 'stay'; participant: Participant; leftAt: number }
  | { kind: 'node.cleanup'; node: PlacedNode; request: CleanupRequest }
  /** The room no longer counts on the node (MediaFleet's load estimate). */
  | { kind: 'node.release'; nodeId: string }
  /** The node failed the room: no new rooms there until it registers again. */
  | { kind: 'node.failed'; nodeId: string }
  /** Stop the recording on `node` (when it is the recording's node) and close its row. */
  | { kind: 'recording.end'; recording: ActiveRecording; node: PlacedNode; status: 'completed' | 'interrupted' }
  /** Someone joined while recording: they become one of its participants. */
  | { kind: 'recording.participant'; recordingId: string; userId: string }
  /** A recorded call's room has something published and no recording: start one. */
  | { kind: 'recording.auto' }
  /** Re-arm the alarm (health check while occupied, forgetting once empty). */
  | { kind: 'alarm' };

/** A change the rules accepted: the state to save, then the effects to carry out. */
export type Applied = { ok: true; state: RoomState; effects: RoomEffect[] };
export type Transition = Applied | Failure;

/** What the object lends its collaborators: its stored state, and the one way to change it. */
export interface RoomStore {
  load(): Promise<RoomState | undefined>;
  /** Saves `applied.state` (when it changed), then carries out its effects; the saved state. */
  commit(previous: RoomState, applied: Applied): Promise<RoomState>;
}
