/**
 * The call state machine, as pure functions: (state, event, now) -> new state + effects.
 * CallSession persists the state and carries out the effects; keeping the rules here makes
 * every transition testable without a runtime.
 *
 *   ringing --accept--> active --hangup--> ended
 *      |--reject / cancel / no-answer / busy / unavailable / connection-lost--> ended
 *
 * A ring group's call (`hunt`) rings several people: all at once (the first to answer takes it,
 * the others stop ringing; one who declines only stops their own ringing) or one after another
 * (a decline, busy or the member timeout moves to the next); it ends when nobody is left.
 *
 * A recorded call (`roomId` set) opens its room on accept and closes it when it ends; its media
 * never goes peer-to-peer, so SDP and ICE are refused.
 */
import {
  assertNever,
  ErrorCode,
  type ClientMessage,
  type EndReason,
  type Party,
  type RoomClientMessage,
  type ServerMessage,
  type SipGatewayNode,
} from '@callstack/protocol';
import { failure, type Actor, type Outcome } from '../objects/actor.ts';
import type { CallParty, CallState, Effect } from './types.ts';

/** Client messages that act on an existing call. */
export type CallAction = Exclude<
  ClientMessage,
  { type: 'call.invite' | 'call.dial' | 'call.transfer' | 'ping' | 'presence.set' | 'presence.activity' | 'quality.report' } | RoomClientMessage
>;

export type Transition = Outcome<{ state: CallState; effects: Effect[] }>;

/** How long a dropped device may take to come back before its call ends as connection-lost. */
export const DEVICE_GRACE_MS = 10_000;

/** How long the party being transferred has to call the target of an attended transfer. */
export const REPLACEMENT_WINDOW_MS = 30_000;

export function applyAction(state: CallState, actor: Actor, action: CallAction, now: number): Transition {
  if (!isParticipant(state, actor)) return failure(ErrorCode.forbidden, 'you are not a participant of this call');
  if (state.status === 'ended') return failure(ErrorCode.invalidState, 'the call has ended');
  const side = sideOf(state, actor);
  if (!side) return failure(ErrorCode.forbidden, 'this device is not the one in the call');

  switch (action.type) {
    case 'call.accept':
      if (side !== 'callee') return failure(ErrorCode.forbidden, 'only the callee can accept');
      if (state.status !== 'ringing') return failure(ErrorCode.invalidState, 'the call was already answered');
      if (action.sdp && state.roomId) return failure(ErrorCode.invalidState, 'a recorded call’s media goes through its room: join it instead');
      return state.hunt ? answeredByMember(state, actor, now, action.sdp) : accept(state, actor.deviceId, now, action.sdp);
    case 'call.reject':
      if (side !== 'callee') return failure(ErrorCode.forbidden, 'only the callee can reject');
      if (state.status !== 'ringing') return failure(ErrorCode.invalidState, 'the call was already answered');
      return state.hunt ? memberLeft(state, actor.userId, 'rejected', now, action.sipStatus) : end(state, 'rejected', now, action.sipStatus);
    case 'call.cancel':
      if (side !== 'caller') return failure(ErrorCode.forbidden, 'only the caller can cancel');
      if (state.status !== 'ringing') return failure(ErrorCode.invalidState, 'the call was already answered');
      return end(state, 'cancelled', now, action.sipStatus);
    case 'call.hangup':
      if (state.status === 'ringing' && side === 'callee' && state.hunt) return memberLeft(state, actor.userId, 'rejected', now, action.sipStatus);
      if (state.status === 'ringing') return end(state, side === 'caller' ? 'cancelled' : 'rejected', now, action.sipStatus);
      return end(state, 'hangup', now, action.sipStatus);
    case 'call.offer':
    case 'call.answer':
    case 'call.ice':
      return relay(state, side, action);
    case 'call.mute':
      return relayMute(state, side, action);
    default:
      return assertNever(action);
  }
}

/**
 * Transfer by either party of an active call: it ends `transferred` for both, and the other
 * party's `call.ended` names `target` (whom the hub found in the tenant) to call next. Attended
 * when `replaces` is given: the consultation call with `target`, which already permitted the
 * other party to take it over (`permitReplacement`).
 */
export function transfer(state: CallState, actor: Actor, target: Party, now: number, replaces?: string): Transition {
  if (!isParticipant(state, actor)) return failure(ErrorCode.forbidden, 'you are not a participant of this call');
  if (state.status !== 'active') return failure(ErrorCode.invalidState, 'only a call in progress can be transferred');
  if (!isCallDevice(state, actor)) return failure(ErrorCode.forbidden, 'this device is not the one in the call');
  if (target.userId === state.caller.userId || target.userId === state.callee.userId) {
    return failure(ErrorCode.badRequest, 'transfer to someone who is not in this call');
  }
  if (state.roomId) return failure(ErrorCode.invalidState, 'a recorded call cannot be transferred');
  if (state.caller.via || state.callee.via) return failure(ErrorCode.invalidState, 'a call with an outside number cannot be transferred yet');
  const transferee = otherParty(state, actor.userId);
  const ended = end(state, 'transferred', now);
  if (!ended.ok) return ended;
  // One message, so the instruction can never arrive after the end it belongs to.
  const effects = ended.effects.map((effect) =>
    effect.kind === 'deliver' && effect.userId === transferee.userId && effect.message.type === 'call.ended'
      ? { ...effect, message: { ...effect.message, transferTo: target, ...(replaces ? { replaces } : {}) } }
      : effect,
  );
  return { ok: true, state: ended.state, effects };
}

/** The party of an active call that is not `userId`: the transferee of a transfer `userId` makes. */
export function otherParty(state: CallState, userId: string): Party {
  return partyOf(userId === state.caller.userId ? state.callee : state.caller);
}

/** A call party as the other side sees it (its number too, for an outside party). */
export function partyOf({ userId, displayName, number }: CallParty): Party {
  return { userId, displayName, ...(number ? { number } : {}) };
}

/** The outside party (a line the gateway carries) that is `userId`, if it is one. */
export function lineOf(state: CallState, userId: string): (CallParty & { via: SipGatewayNode }) | null {
  const party = state.caller.userId === userId ? state.caller : state.callee.userId === userId ? state.callee : null;
  return party?.via ? { ...party, via: party.via } : null;
}

/**
 * Attended transfer, on the consultation call: its party `actor` (the transferor) lets
 * `transfereeId` take its place in a call to `targetId`, the other party, for a short while.
 */
export function permitReplacement(state: CallState, actor: Actor, transfereeId: string, targetId: string, now: number): Transition {
  if (!isParticipant(state, actor)) return failure(ErrorCode.notFound, 'no such call to replace');
  if (state.status !== 'active') return failure(ErrorCode.invalidState, 'the consultation call is not in progress');
  if (!isCallDevice(state, actor)) return failure(ErrorCode.forbidden, 'this device is not the one in the consultation call');
  if (state.roomId) return failure(ErrorCode.invalidState, 'a recorded call cannot be transferred');
  const target = actor.userId === state.caller.userId ? 'callee' : 'caller';
  if (state[target].userId !== targetId) return failure(ErrorCode.badRequest, 'the consultation call is with someone else');
  if (transfereeId === state.caller.userId || transfereeId === state.callee.userId) {
    return failure(ErrorCode.badRequest, 'transfer to someone who is not in this call');
  }
  return { ok: true, state: { ...state, replaceableBy: { userId: transfereeId, target, until: now + REPLACEMENT_WINDOW_MS } }, effects: [] };
}

/**
 * The transferee's call claims the consultation call's place: allowed for the permitted user
 * calling its target, in time. Gives the target's device in this call, the one to ring.
 */
export function claimReplacement(
  state: CallState,
  claimant: { tenantId: string; userId: string },
  calleeId: string,
  now: number,
): Outcome<{ deviceId: string }> {
  const permit = state.replaceableBy;
  // One answer for every refusal: a guess at a call id learns nothing.
  const refused = failure(ErrorCode.notFound, 'no such call to replace');
  if (state.tenantId !== claimant.tenantId || state.status !== 'active' || !permit) return refused;
  const deviceId = state[permit.target].deviceId;
  if (permit.userId !== claimant.userId || permit.until < now || state[permit.target].userId !== calleeId || !deviceId) return refused;
  return { ok: true, deviceId };
}

/** The call that took this one over was answered: this one ends `transferred` for both. */
export function replaced(state: CallState, now: number): Transition {
  if (state.status === 'ended') return { ok: true, state, effects: [] };
  return end(state, 'transferred', now);
}

/** Quality reports come from the two devices in the call while it is up; anyone else learns nothing. */
export function mayReportQuality(state: CallState, actor: Actor): Outcome {
  if (!isParticipant(state, actor)) return failure(ErrorCode.notFound, 'no such call');
  if (state.status !== 'active') return failure(ErrorCode.invalidState, 'quality is reported while the call is up');
  if (!isCallDevice(state, actor)) return failure(ErrorCode.invalidState, 'this device is not the one in the call');
  return { ok: true };
}

export function ringTimeout(state: CallState, now: number): Transition {
  if (state.status !== 'ringing' || now < state.ringDeadline) return { ok: true, state, effects: [] };
  return state.hunt?.waiting.length ? nextMember(state, 'no-answer', now) : end(state, 'no-answer', now);
}

/**
 * A ring group's member could not be rung (busy, no device online): the others ring on, or the next
 * in order rings; when nobody is left, the call ends for that reason.
 */
export function memberUnreachable(state: CallState, userId: string, reason: 'busy' | 'unavailable', now: number): Transition {
  const unchanged: Transition = { ok: true, state, effects: [] };
  if (state.status !== 'ringing') return unchanged;
  const hunt = state.hunt;
  if (!hunt) return end(state, reason, now);
  if (!ringingMembers(state).some((member) => member.userId === userId)) return unchanged;
  if (hunt.strategy === 'in-order') return hunt.waiting.length ? nextMember(state, reason, now, { silent: true }) : end(state, reason, now);
  // Their hub rang nobody: there is nothing to stop on their side.
  return hunt.alsoRinging.length ? { ok: true, state: withoutMember(state, userId), effects: [] } : end(state, reason, now);
}

/**
 * The ring group's people who ring now. Simultaneous: everyone at first; in order: the callee.
 */
export function ringingMembers(state: CallState): Party[] {
  return [partyOf(state.callee), ...(state.hunt?.alsoRinging ?? [])];
}

/** A ringing member answered: they become the callee; the other members stop ringing. */
function answeredByMember(state: CallState, actor: Actor, now: number, offer: string | undefined): Transition {
  const member = ringingMembers(state).find((party) => party.userId === actor.userId)!;
  const others = ringingMembers(state).filter((party) => party.userId !== actor.userId);
  const { hunt: _rang, ...rest } = state;
  const answered = accept({ ...rest, callee: { ...member, deviceId: null } }, actor.deviceId, now, offer);
  if (!answered.ok) return answered;
  const stopped: ServerMessage = { type: 'call.ended', callId: state.callId, reason: 'answered-elsewhere', durationMs: 0 };
  return {
    ...answered,
    effects: [...answered.effects, ...others.flatMap((other): Effect[] => [stopRinging(other.userId, stopped), { kind: 'untrack', userId: other.userId }])],
  };
}

/** A ringing member declined: the others ring on (simultaneous) or the next member rings (in order); nobody left, the call ends. */
function memberLeft(state: CallState, userId: string, reason: 'rejected', now: number, sipStatus?: number): Transition {
  const hunt = state.hunt!;
  if (hunt.strategy === 'in-order') return hunt.waiting.length ? nextMember(state, reason, now) : end(state, reason, now, sipStatus);
  if (hunt.alsoRinging.length === 0) return end(state, reason, now, sipStatus);
  const stopped: ServerMessage = { type: 'call.ended', callId: state.callId, reason, durationMs: 0 };
  return { ok: true, state: withoutMember(state, userId), effects: [stopRinging(userId, stopped), { kind: 'untrack', userId }] };
}

/** Simultaneous: `userId` rings no more; when it was the callee, the next ringing member takes that place. */
function withoutMember(state: CallState, userId: string): CallState {
  const hunt = state.hunt!;
  if (state.callee.userId !== userId) return { ...state, hunt: { ...hunt, alsoRinging: hunt.alsoRinging.filter((member) => member.userId !== userId) } };
  const [promoted, ...others] = hunt.alsoRinging;
  return promoted ? { ...state, callee: { ...promoted, deviceId: null }, hunt: { ...hunt, alsoRinging: others } } : state;
}

/** In order: the callee stops ringing (`silent`: it never rang) and the next member rings, for the member timeout. */
function nextMember(state: CallState, reason: EndReason, now: number, { silent = false } = {}): Transition {
  const hunt = state.hunt!;
  const [next, ...waiting] = hunt.waiting;
  if (!next) return end(state, reason, now);
  const previous = state.callee.userId;
  const stopped: ServerMessage = { type: 'call.ended', callId: state.callId, reason, durationMs: 0 };
  return {
    ok: true,
    state: { ...state, callee: { ...next, deviceId: null }, ringDeadline: now + hunt.memberTimeoutMs, hunt: { ...hunt, waiting } },
    effects: [...(silent ? [] : [stopRinging(previous, stopped), { kind: 'untrack', userId: previous } as const]), { kind: 'ring', userId: next.userId }],
  };
}

function stopRinging(userId: string, message: ServerMessage): Effect {
  return { kind: 'deliver', userId, devices: 'all', message };
}

/** The callee's devices ring: the caller hears ringback, and the post-dial delay is known. */
export function ringing(state: CallState, now: number): Transition {
  if (state.status !== 'ringing' || state.ringingAt) return { ok: true, state, effects: [] };
  const message: ServerMessage = { type: 'call.ringing', callId: state.callId, to: partyOf(state.callee) };
  return {
    ok: true,
    state: { ...state, ringingAt: now },
    effects: [{ kind: 'deliver', userId: state.caller.userId, devices: { only: state.caller.deviceId }, message }],
  };
}

/** The callee's hub could not ring anyone: the call ends before it started. */
export function calleeUnreachable(state: CallState, reason: 'busy' | 'unavailable', now: number): Transition {
  return end(state, reason, now);
}

/** A device's connection dropped: its call ends unless it comes back within the grace period. */
export function deviceLost(state: CallState, actor: Actor, now: number): Transition {
  if (state.status === 'ended' || !isCallDevice(state, actor)) return { ok: true, state, effects: [] };
  return { ok: true, state: { ...state, lostDevices: { ...state.lostDevices, [actor.deviceId]: now + DEVICE_GRACE_MS } }, effects: [] };
}

export function deviceBack(state: CallState, actor: Actor): Transition {
  if (!(actor.deviceId in state.lostDevices)) return { ok: true, state, effects: [] };
  const { [actor.deviceId]: _back, ...rest } = state.lostDevices;
  return { ok: true, state: { ...state, lostDevices: rest }, effects: [] };
}

/** Ends the call when a lost device's grace period is over. */
export function graceExpired(state: CallState, now: number): Transition {
  if (state.status === 'ended') return { ok: true, state, effects: [] };
  const expired = Object.values(state.lostDevices).some((deadline) => deadline <= now);
  return expired ? end(state, 'connection-lost', now) : { ok: true, state, effects: [] };
}

/** The earliest time at which the call needs attention without any message arriving. */
export function nextDeadline(state: CallState): number | null {
  if (state.status === 'ended') return null;
  const deadlines = Object.values(state.lostDevices);
  if (state.status === 'ringing') deadlines.push(state.ringDeadline);
  const cutAt = maxDurationEnd(state);
  if (cutAt !== null) deadlines.push(cutAt);
  return deadlines.length ? Math.min(...deadlines) : null;
}

/** A call to the outside that has lasted its longest ends for both sides (the toll-fraud guard's cap). */
export function maxDurationReached(state: CallState, now: number): Transition {
  const cutAt = maxDurationEnd(state);
  return cutAt !== null && now >= cutAt ? end(state, 'max-duration', now) : { ok: true, state, effects: [] };
}

function maxDurationEnd(state: CallState): number | null {
  return state.status === 'active' && state.answeredAt !== null && state.maxDurationMs ? state.answeredAt + state.maxDurationMs : null;
}

export function durationOf(state: CallState): number {
  return state.answeredAt !== null && state.endedAt !== null ? Math.max(0, state.endedAt - state.answeredAt) : 0;
}

/** `offer`: the callee's own SDP offer, handed to the caller with `call.accepted`. */
function accept(state: CallState, deviceId: string, now: number, offer: string | undefined): Transition {
  const next: CallState = { ...state, status: 'active', answeredAt: now, callee: { ...state.callee, deviceId } };
  const { callId } = state;
  const caller = partyOf(state.caller);
  const callee = partyOf(state.callee);
  const room = state.roomId ? { roomId: state.roomId } : {};
  return {
    ok: true,
    state: next,
    effects: [
      ...(state.roomId ? [{ kind: 'room.open', roomId: state.roomId } as const] : []),
      ...(state.replaces ? [{ kind: 'replace', callId: state.replaces } as const] : []),
      {
        kind: 'deliver',
        userId: caller.userId,
        devices: { only: state.caller.deviceId },
        message: { type: 'call.accepted', callId, role: 'caller', peer: callee, answeredAt: now, ...room, ...(offer ? { sdp: offer } : {}) },
      },
      {
        kind: 'deliver',
        userId: callee.userId,
        devices: { only: deviceId },
        message: { type: 'call.accepted', callId, role: 'callee', peer: caller, answeredAt: now, ...room },
      },
      {
        kind: 'deliver',
        userId: callee.userId,
        devices: { except: deviceId },
        message: { type: 'call.ended', callId, reason: 'answered-elsewhere', durationMs: 0 },
      },
      { kind: 'track', userId: caller.userId, status: 'active' },
      { kind: 'track', userId: callee.userId, status: 'active' },
    ],
  };
}

function end(state: CallState, reason: EndReason, now: number, sipStatus?: number): Transition {
  const next: CallState = { ...state, status: 'ended', endedAt: now, endReason: reason, lostDevices: {}, sipStatus: sipStatus ?? state.sipStatus ?? null };
  const message: ServerMessage = { type: 'call.ended', callId: state.callId, reason, durationMs: durationOf(next) };
  const calleeDevices = state.callee.deviceId ? { only: state.callee.deviceId } : ('all' as const);
  return {
    ok: true,
    state: next,
    effects: [
      { kind: 'deliver', userId: state.caller.userId, devices: { only: state.caller.deviceId }, message },
      { kind: 'deliver', userId: state.callee.userId, devices: calleeDevices, message },
      ...(state.hunt?.alsoRinging ?? []).map((member) => stopRinging(member.userId, message)),
      { kind: 'untrack', userId: state.caller.userId },
      { kind: 'untrack', userId: state.callee.userId },
      ...(state.hunt?.alsoRinging ?? []).map((member): Effect => ({ kind: 'untrack', userId: member.userId })),
      // The room exists only once the call was answered.
      ...(state.roomId && state.answeredAt !== null ? [{ kind: 'room.close', roomId: state.roomId } as const] : []),
    ],
  };
}

function relay(state: CallState, side: 'caller' | 'callee', action: Extract<CallAction, { type: 'call.offer' | 'call.answer' | 'call.ice' }>): Transition {
  if (state.status !== 'active') return failure(ErrorCode.invalidState, 'media negotiation starts after the call is answered');
  if (state.roomId) return failure(ErrorCode.invalidState, 'a recorded call’s media goes through its room: join it instead');
  const target = side === 'caller' ? state.callee : state.caller;
  if (!target.deviceId) return failure(ErrorCode.invalidState, 'the other side has no device in the call');
  const { ref: _ref, ...message } = action;
  return { ok: true, state, effects: [{ kind: 'deliver', userId: target.userId, devices: { only: target.deviceId }, message }] };
}

/** Mute is only news once answered; a recorded call relays it too (its room shows paused tracks, a 1:1 view this). */
function relayMute(state: CallState, side: 'caller' | 'callee', { callId, muted }: Extract<CallAction, { type: 'call.mute' }>): Transition {
  if (state.status !== 'active') return failure(ErrorCode.invalidState, 'mute is told once the call is answered');
  const target = side === 'caller' ? state.callee : state.caller;
  if (!target.deviceId) return failure(ErrorCode.invalidState, 'the other side has no device in the call');
  return {
    ok: true,
    state,
    effects: [{ kind: 'deliver', userId: target.userId, devices: { only: target.deviceId }, message: { type: 'call.mute', callId, muted } }],
  };
}

function isParticipant(state: CallState, actor: Actor): boolean {
  return (
    actor.tenantId === state.tenantId && (actor.userId === state.caller.userId || actor.userId === state.callee.userId || isRingingMember(state, actor.userId))
  );
}

/** One of a ring group's members whose devices ring besides the callee's. */
function isRingingMember(state: CallState, userId: string): boolean {
  return state.status === 'ringing' && (state.hunt?.alsoRinging.some((member) => member.userId === userId) ?? false);
}

/** Which side the actor is on. The callee's devices may all act while ringing; after, only the answering one. */
function sideOf(state: CallState, actor: Actor): 'caller' | 'callee' | null {
  if (actor.userId === state.caller.userId && actor.deviceId === state.caller.deviceId) return 'caller';
  if (actor.userId === state.callee.userId) {
    if (state.status === 'ringing' || state.callee.deviceId === actor.deviceId) return 'callee';
  }
  return isRingingMember(state, actor.userId) ? 'callee' : null;
}

function isCallDevice(state: CallState, actor: Actor): boolean {
  return (
    (actor.userId === state.caller.userId && actor.deviceId === state.caller.deviceId) ||
    (actor.userId === state.callee.userId && actor.deviceId === state.callee.deviceId)
  );
}
