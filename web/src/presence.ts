/**
 * Watching the organisation's presence: the `/api/presence` socket (snapshot in parts, then
 * updates) folded into a map userId → status by a pure reducer.
 */
import {
  assertNever,
  parsePresenceServerMessage,
  type PresenceClientMessage,
  type PresenceEntry,
  type PresenceServerMessage,
  type PresenceStatus,
} from '@callstack/protocol';
import { ReconnectingSocket, type SocketOptions, type SocketStatus } from './socket.ts';

export interface PresenceState {
  /** Users who are not offline, as of the last complete snapshot and the updates since. */
  statuses: ReadonlyMap<string, PresenceEntry>;
  /** A snapshot being received in parts; it replaces `statuses` once its last part arrives. */
  incoming: ReadonlyMap<string, PresenceEntry> | null;
}

export const EMPTY_PRESENCE: PresenceState = { statuses: new Map(), incoming: null };

/** A user absent from the map is offline. */
export function statusOf(state: PresenceState, userId: string): PresenceStatus {
  return state.statuses.get(userId)?.status ?? 'offline';
}

/** Adds `entry` unless what `map` has is newer (`since` grows with every change of a user). */
function merge(map: ReadonlyMap<string, PresenceEntry>, entry: PresenceEntry): ReadonlyMap<string, PresenceEntry> {
  const known = map.get(entry.userId);
  if (known && known.since > entry.since) return map;
  const next = new Map(map);
  if (entry.status === 'offline') next.delete(entry.userId);
  else next.set(entry.userId, entry);
  return next;
}

type PresenceFrame = Extract<PresenceServerMessage, { type: 'presence.snapshot' | 'presence.updates' }>;

export function presenceReducer(state: PresenceState, message: PresenceFrame): PresenceState {
  switch (message.type) {
    case 'presence.snapshot': {
      // A reconnect starts a new snapshot: users it leaves out are offline, so it starts empty.
      let incoming = state.incoming ?? new Map<string, PresenceEntry>();
      for (const entry of message.users) incoming = merge(incoming, entry);
      return message.more ? { statuses: state.statuses, incoming } : { statuses: incoming, incoming: null };
    }
    case 'presence.updates': {
      let { statuses, incoming } = state;
      for (const entry of message.users) {
        statuses = merge(statuses, entry);
        incoming = incoming && merge(incoming, entry);
      }
      return { statuses, incoming };
    }
    default:
      return assertNever(message);
  }
}

export type PresenceEvents = { status: [status: SocketStatus]; change: [state: PresenceState] };

export class PresenceWatcher extends ReconnectingSocket<PresenceServerMessage, PresenceClientMessage, PresenceEvents> {
  state: PresenceState = EMPTY_PRESENCE;

  constructor(options: SocketOptions) {
    super('/api/presence', parsePresenceServerMessage, options);
    // A snapshot cut short by a lost connection is worthless: the next connection sends a whole one.
    this.on('status', (status) => {
      if (status !== 'online') this.state = { ...this.state, incoming: null };
    });
  }

  protected override ping(): PresenceClientMessage {
    return { type: 'ping' };
  }

  protected override receive(message: PresenceServerMessage): void {
    switch (message.type) {
      case 'presence.snapshot':
        if (this.status !== 'online') this.ready();
        this.update(presenceReducer(this.state, message));
        break;
      case 'presence.updates':
        this.update(presenceReducer(this.state, message));
        break;
      case 'error':
        console.warn(`presence: ${message.code} ${message.message}`);
        break;
      case 'pong':
        break;
      default:
        assertNever(message);
    }
  }

  private update(next: PresenceState): void {
    if (next.statuses !== this.state.statuses) {
      this.state = next;
      this.emit('change', next);
    } else {
      this.state = next;
    }
  }
}
