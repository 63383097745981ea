/**
 * A user's presence as a pure state machine, `(state, event, now) -> (state, effects)`, like
 * signaling/callState.ts: the offline grace, when the user's devices hear `presence.self`, and
 * when a status goes (again) to the tenant's shards. UserPresence keeps the state in the hub's
 * SQLite and carries out the effects.
 */
import { assertNever, type ManualStatus, type PresenceEntry, type PresenceStatus, type ServerMessage } from '@callstack/protocol';
import { foldPresence, nextSince, type PresenceInputs } from './fold.ts';

/** A status that did not reach every shard is published again after this long. */
export const PUBLISH_RETRY_MS = 5_000;

export interface PresenceState {
  tenantId: string;
  userId: string;
  status: PresenceStatus;
  since: number;
  manual: 'away' | 'dnd' | null;
  /** When the user goes offline unless a device comes back; null while a device is connected. */
  offlineAt: number | null;
  /** The newest `since` every shard has acknowledged. */
  publishedSince: number;
  /** When the status some shard missed is published again; null when none missed it. */
  retryAt: number | null;
}

/** What the hub sees when the event arrives. */
export interface Observed {
  devices: PresenceInputs['devices'];
  inCall: boolean;
  offlineGraceMs: number;
}

export type PresenceEvent =
  /** A device connected; it hears `presence.self` even when nothing changed. The first one creates the state. */
  | { kind: 'connected'; user: { tenantId: string; userId: string }; observed: Observed }
  /** A device left, a device's activity or the user's calls changed. */
  | { kind: 'changed'; observed: Observed }
  | { kind: 'manual'; status: ManualStatus; observed: Observed }
  /** Every socket was closed on purpose (deactivation, sign-out everywhere): offline now, no grace. */
  | { kind: 'disconnectedAll'; observed: Observed }
  /** The hub's alarm: the grace may be over, or a status some shard missed is due again. */
  | { kind: 'alarm'; observed: Observed }
  /** The shards' answer to the publish of `since`: all took it (`ok`) or some did not. */
  | { kind: 'published'; since: number; ok: boolean };

export type PresenceEffect =
  { kind: 'self'; to: 'all' | 'connecting'; message: Extract<ServerMessage, { type: 'presence.self' }> } | { kind: 'publish'; entry: PresenceEntry };

export interface PresenceStep {
  /** Null only while no device ever connected: the user is offline and nobody needs telling. */
  state: PresenceState | null;
  effects: PresenceEffect[];
}

export function stepPresence(state: PresenceState | null, event: PresenceEvent, now: number): PresenceStep {
  switch (event.kind) {
    case 'connected':
      return refold(state ?? initialState(event.user), event, now);
    case 'changed':
    case 'manual':
    case 'disconnectedAll':
    case 'alarm':
      return state ? refold(state, event, now) : { state, effects: [] };
    case 'published':
      return { state: state && acknowledge(state, event, now), effects: [] };
    default:
      return assertNever(event);
  }
}

/** When the hub's alarm is next needed for presence: the end of the grace or a publish retry. */
export function presenceDueAt(state: PresenceState | null): number | null {
  const due = [state?.offlineAt ?? null, state?.retryAt ?? null].filter((at): at is number => at !== null);
  return due.length > 0 ? Math.min(...due) : null;
}

function initialState(user: { tenantId: string; userId: string }): PresenceState {
  return { ...user, status: 'offline', since: 0, manual: null, offlineAt: null, publishedSince: 0, retryAt: null };
}

/**
 * Folds the status again. The grace starts when the last device leaves a user who was not
 * offline, and a device back in time cancels it; `presence.self` goes to every device when the
 * status or the manual choice changed, and to a connecting device in any case.
 */
function refold(previous: PresenceState, event: Exclude<PresenceEvent, { kind: 'published' }>, now: number): PresenceStep {
  const { devices, inCall, offlineGraceMs } = event.observed;
  const manual = event.kind !== 'manual' ? previous.manual : event.status === 'online' ? null : event.status;
  let offlineAt = previous.offlineAt;
  if (devices.length > 0) offlineAt = null;
  else if (event.kind === 'disconnectedAll') offlineAt = now;
  else if (offlineAt === null && previous.status !== 'offline') offlineAt = now + offlineGraceMs;
  const status = foldPresence({ devices, withinGrace: offlineAt !== null && now < offlineAt, inCall, manual }, previous.status);
  const changed = status !== previous.status;
  const state: PresenceState = {
    ...previous,
    status,
    since: changed ? nextSince(previous.since, now) : previous.since,
    manual,
    offlineAt: status === 'offline' ? null : offlineAt,
  };
  const effects: PresenceEffect[] = [];
  const self = { type: 'presence.self', status, manual, since: state.since } as const;
  if (changed || manual !== previous.manual) effects.push({ kind: 'self', to: 'all', message: self });
  else if (event.kind === 'connected') effects.push({ kind: 'self', to: 'connecting', message: self });
  // A change goes out at once; the alarm repeats what some shard missed.
  if (changed || (event.kind === 'alarm' && state.publishedSince < state.since)) {
    effects.push({ kind: 'publish', entry: { userId: state.userId, status, since: state.since } });
  }
  return { state, effects };
}

/**
 * Shards drop what is not newer, so only the newest acknowledged `since` matters. A failure is
 * retried unless a newer status already reached every shard.
 */
function acknowledge(state: PresenceState, { since, ok }: { since: number; ok: boolean }, now: number): PresenceState {
  const publishedSince = ok ? Math.max(state.publishedSince, since) : state.publishedSince;
  if (publishedSince >= state.since) return { ...state, publishedSince, retryAt: null };
  return { ...state, publishedSince, retryAt: ok ? state.retryAt : now + PUBLISH_RETRY_MS };
}
