/**
 * Live presence. Two sockets carry it:
 *
 * - The signaling socket (`/api/signaling`): a device sets its user's manual status with
 *   `presence.set` (`online` clears it; `away`, `dnd`) and reports `presence.activity {idle}`
 *   (the web app sends `idle: true` after a few minutes without input, `false` on the next input).
 *   Every device of the user gets `presence.self` on connect and whenever the user's status or
 *   manual choice changes, so all tabs show the same.
 * - The presence socket (`/api/presence?token=&device=`), for watching the organisation: on connect
 *   `presence.snapshot` (in parts of at most `PRESENCE_SNAPSHOT_PART` users; the last has
 *   `more: false`) lists every user who is not offline, then `presence.updates` carries every change
 *   (each shard gathers the changes of a few milliseconds into one frame, so a burst of changes
 *   is a few frames per watcher, not one per change).
 *   A user absent from the snapshot is offline. The client may send `ping`; anything else is
 *   answered with a typed `error` and the socket stays open.
 *
 * Status, folded over all devices of a user: no device (after a grace period) → offline; manual
 * dnd → dnd; in a ringing or active call → busy; manual away, or every device idle → away; else
 * online. `since` is when the status began (epoch ms); it grows with every change of a user, so a
 * client may ignore an update older than what it has.
 */
import * as v from 'valibot';
import { parseFrame, Ping, Pong, Ref, SignalingError, type ParseResult } from './frames.ts';
import { Id } from './ids.ts';

export const PresenceStatus = v.picklist(['online', 'away', 'busy', 'dnd', 'offline']);
export type PresenceStatus = v.InferOutput<typeof PresenceStatus>;
/** A status a person chooses; `online` clears the choice. */
export const ManualStatus = v.picklist(['online', 'away', 'dnd']);
export type ManualStatus = v.InferOutput<typeof ManualStatus>;

/** Users per `presence.snapshot` frame, so a large tenant's snapshot stays far below the frame limit. */
export const PRESENCE_SNAPSHOT_PART = 500;

// ---- on the signaling socket ---------------------------------------------------------------

export const PresenceSet = v.object({ type: v.literal('presence.set'), ref: Ref, status: ManualStatus });
export const PresenceActivity = v.object({ type: v.literal('presence.activity'), ref: Ref, idle: v.boolean() });
export const PresenceSelf = v.object({
  type: v.literal('presence.self'),
  status: PresenceStatus,
  /** The manual choice in force (null when none), so a UI can show what the user picked. */
  manual: v.nullable(v.picklist(['away', 'dnd'])),
  since: v.number(),
});

// ---- on the presence socket ----------------------------------------------------------------

export const PresenceEntry = v.object({ userId: Id, status: PresenceStatus, since: v.number() });
export type PresenceEntry = v.InferOutput<typeof PresenceEntry>;

const PresenceSnapshot = v.object({
  type: v.literal('presence.snapshot'),
  users: v.array(PresenceEntry),
  /** True while further snapshot parts follow. */
  more: v.boolean(),
});
const PresenceUpdates = v.object({
  type: v.literal('presence.updates'),
  /** At most PRESENCE_SNAPSHOT_PART; one entry per user, in no particular order. */
  users: v.pipe(v.array(PresenceEntry), v.minLength(1)),
});

export const PresenceClientMessage = v.variant('type', [Ping]);
export type PresenceClientMessage = v.InferOutput<typeof PresenceClientMessage>;

export const PresenceServerMessage = v.variant('type', [PresenceSnapshot, PresenceUpdates, Pong, SignalingError]);
export type PresenceServerMessage = v.InferOutput<typeof PresenceServerMessage>;

/** Parses one raw frame a watcher sent on the presence socket. Never throws. */
export function parsePresenceClientMessage(raw: string | ArrayBuffer): ParseResult<PresenceClientMessage> {
  return parseFrame(raw, PresenceClientMessage);
}

/** Parses one raw frame the edge sent on the presence socket. */
export function parsePresenceServerMessage(raw: string | ArrayBuffer): ParseResult<PresenceServerMessage> {
  return parseFrame(raw, PresenceServerMessage);
}
