import type { CallMedia, EndReason, Party, ServerMessage, SipGatewayNode } from '@callstack/protocol';

export interface CallParty extends Party {
  /** The device that placed (caller) or answered (callee) the call; null while the callee rings. */
  deviceId: string | null;
  /** An outside party (a line, protocol/src/sip.ts): the gateway that carries it, which its messages go to. */
  via?: SipGatewayNode;
}

export type CallStatus = 'ringing' | 'active' | 'ended';

/** Everything a call session persists: the DO can be evicted at any time and resume from this. */
export interface CallState {
  callId: string;
  tenantId: string;
  caller: CallParty & { deviceId: string };
  callee: CallParty;
  media: CallMedia;
  /** Set on a recorded call: its media runs through this room (created on accept), not peer-to-peer. */
  roomId?: string;
  status: CallStatus;
  createdAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  endReason: EndReason | null;
  ringDeadline: number;
  /** When the callee's devices started ringing (null before; absent in calls stored before it was kept). */
  ringingAt?: number | null;
  /** The SIP final status a SIP device reported with the end, if any. */
  sipStatus?: number | null;
  /** Devices whose connection dropped during the call, with the time their grace ends. */
  lostDevices: Record<string, number>;
  /** A call to the outside ends this long after the answer (the tenant's calling policy). */
  maxDurationMs?: number;
  /** Attended transfer: the call this one takes over once answered. */
  replaces?: string;
  /** Attended transfer: the consultation call may be taken over by this user's call to `target`, until `until`. */
  replaceableBy?: { userId: string; target: 'caller' | 'callee'; until: number };
  /** A ring group's call while it rings: `callee` is the member ringing (first), these the others. */
  hunt?: Hunt;
}

/** How a ring group (protocol/src/pstn.ts) rings: everyone at once, or one after another. */
export interface Hunt {
  strategy: 'simultaneous' | 'in-order';
  /** Simultaneous: the members ringing besides the callee. */
  alsoRinging: Party[];
  /** In order: the members still to ring after the callee, in order. */
  waiting: Party[];
  /** How long each member rings (in order); the whole ring time (simultaneous). */
  memberTimeoutMs: number;
}

/** Which devices of a user a message goes to. */
export type DeviceSelector = { only: string } | { except: string } | 'all';

/** How a hub tracks a call its user is in (either makes the user busy). */
export type TrackedStatus = 'ringing' | 'active';

export type Effect =
  | { kind: 'deliver'; userId: string; devices: DeviceSelector; message: ServerMessage }
  | { kind: 'track'; userId: string; status: TrackedStatus }
  | { kind: 'untrack'; userId: string }
  /** Creates the recorded call's room (before anyone is told to join it). */
  | { kind: 'room.open'; roomId: string }
  /** The recorded call ended: everyone leaves its room and the recording completes. */
  | { kind: 'room.close'; roomId: string }
  /** Attended transfer: this call was answered, so the call it takes over ends. */
  | { kind: 'replace'; callId: string }
  /** A ring group's next member: their devices ring now (what their hub answers comes back as `memberUnreachable`). */
  | { kind: 'ring'; userId: string };

/** What a call asks of one user's hub: carried out together, in order, in one request (UserHub.apply). */
export type HubEffect = Extract<Effect, { kind: 'deliver' | 'track' | 'untrack' }>;

export function isHubEffect(effect: Effect): effect is HubEffect {
  return effect.kind === 'deliver' || effect.kind === 'track' || effect.kind === 'untrack';
}

/** What a callee's hub answers when asked to ring its devices. */
export type RingOutcome = 'ringing' | 'busy' | 'unavailable';
