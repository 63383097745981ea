/**
 * A user's presence, inside their hub (signaling/UserHub.ts): the hub hands it what happens to
 * the user's devices and calls; it folds the status (presenceState.ts), keeps it in the hub's
 * SQLite, tells the devices (`presence.self`, through the hub) and publishes each change to the
 * tenant's presence shards. The hub sets its alarm from `dueAt()` and calls `alarm()` back.
 */
import type { ManualStatus, PresenceEntry, ServerMessage } from '@callstack/protocol';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { presenceShards } from '../objects/stubs.ts';
import { devicesOf, type SocketActivity } from './fold.ts';
import { presenceDueAt, stepPresence, type Observed, type PresenceEvent, type PresenceState } from './presenceState.ts';

/** What presence needs of the hub: its sockets, its calls, and delivery to its devices. */
export interface PresenceHost {
  /** The activity of each open socket, leaving out `gone` (closing now; the runtime may still list them). */
  sockets(gone: readonly WebSocket[]): SocketActivity[];
  inCall(): boolean;
  /** Sends to every device of the user, or to one socket. */
  deliver(message: ServerMessage, to: 'all' | WebSocket): void;
}

type PresenceRow = {
  tenant_id: string;
  user_id: string;
  status: PresenceState['status'];
  since: number;
  manual: PresenceState['manual'];
  offline_at: number | null;
  published_since: number;
  retry_at: number | null;
};

export class UserPresence {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly host: PresenceHost,
  ) {
    // One row, written when the first device connects: the alarm needs the ids with no socket left.
    sql.exec(
      `create table if not exists presence (
         id integer primary key check (id = 1), tenant_id text not null, user_id text not null,
         status text not null, since integer not null, manual text, offline_at integer,
         published_since integer not null, retry_at integer)`,
    );
    // Hubs created before publish retries had their own deadline lack the column.
    if (!sql.exec('select * from presence limit 0').columnNames.includes('retry_at')) {
      sql.exec('alter table presence add column retry_at integer');
    }
  }

  /** `ws`: the socket that connected, which gets `presence.self`; null for a SIP phone that registered. */
  deviceConnected(ws: WebSocket | null, user: { tenantId: string; userId: string }): Promise<void> {
    return this.apply({ kind: 'connected', user, observed: this.observe() }, ws ?? undefined);
  }

  /** `gone`: sockets closing right now; none when only activity or calls changed. */
  changed(gone: readonly WebSocket[] = []): Promise<void> {
    return this.apply({ kind: 'changed', observed: this.observe(gone) });
  }

  setManual(status: ManualStatus): Promise<void> {
    return this.apply({ kind: 'manual', status, observed: this.observe() });
  }

  alarm(): Promise<void> {
    return this.apply({ kind: 'alarm', observed: this.observe() });
  }

  /**
   * The presence part of closing every socket of the user (`closed`, already closed by the hub):
   * the user's watcher sockets on every shard close too, and the user is offline at once.
   */
  async disconnectAll(code: number, reason: string, closed: readonly WebSocket[]): Promise<void> {
    const state = this.load();
    if (!state) return;
    const ids = { tenantId: state.tenantId, userId: state.userId };
    log.info('user.disconnected_all', { ...ids, code, sockets: closed.length });
    await Promise.all(
      presenceShards(this.env, state.tenantId).map((shard) =>
        shard.closeUser(state.userId, code, reason).catch((error: unknown) => {
          log.warn('presence.close_failed', ids, error);
        }),
      ),
    );
    await this.apply({ kind: 'disconnectedAll', observed: this.observe(closed) });
  }

  /** Do-not-disturb: the hub answers `busy` instead of ringing. */
  doNotDisturb(): boolean {
    return this.load()?.manual === 'dnd';
  }

  /** When the hub's alarm is next needed for presence. */
  dueAt(): number | null {
    return presenceDueAt(this.load());
  }

  private observe(gone: readonly WebSocket[] = []): Observed {
    return {
      devices: devicesOf(this.host.sockets(gone)),
      inCall: this.host.inCall(),
      offlineGraceMs: config(this.env).presence.offlineGraceMs,
    };
  }

  /** Steps the state machine, stores the new state (no await in between), then carries out the effects. */
  private async apply(event: PresenceEvent, connecting?: WebSocket): Promise<void> {
    const previous = this.load();
    const { state, effects } = stepPresence(previous, event, Date.now());
    if (!state) return;
    // Most events (a call's busy already published, a ping) change nothing: no write then.
    if (!previous || !samePresence(previous, state)) this.save(state);
    const before = previous?.status ?? 'offline';
    if (state.status !== before) log.info('presence.changed', { tenantId: state.tenantId, userId: state.userId, status: state.status, previous: before });
    for (const effect of effects) {
      switch (effect.kind) {
        case 'self':
          if (effect.to === 'all') this.host.deliver(effect.message, 'all');
          else if (connecting) this.host.deliver(effect.message, connecting);
          break;
        case 'publish':
          await this.publish(state, effect.entry);
          break;
        default:
          effect satisfies never;
      }
    }
  }

  /** One RPC per shard, in parallel; shards drop what is not newer, so retries and overtaking are harmless. */
  private async publish(state: PresenceState, entry: PresenceEntry): Promise<void> {
    const results = await Promise.allSettled(presenceShards(this.env, state.tenantId).map((shard) => shard.publish(entry)));
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length > 0) {
      log.warn('presence.publish_failed', { tenantId: state.tenantId, userId: state.userId, shards: failed.length }, failed[0]?.reason);
    }
    await this.apply({ kind: 'published', since: entry.since, ok: failed.length === 0 });
  }

  private load(): PresenceState | null {
    const row = this.sql.exec<PresenceRow>('select * from presence').toArray()[0];
    if (!row) return null;
    return {
      tenantId: row.tenant_id,
      userId: row.user_id,
      status: row.status,
      since: row.since,
      manual: row.manual,
      offlineAt: row.offline_at,
      publishedSince: row.published_since,
      retryAt: row.retry_at,
    };
  }

  private save(state: PresenceState): void {
    this.sql.exec(
      `insert into presence (id, tenant_id, user_id, status, since, manual, offline_at, published_since, retry_at)
       values (1, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (id) do update set status = excluded.status, since = excluded.since, manual = excluded.manual,
         offline_at = excluded.offline_at, published_since = excluded.published_since, retry_at = excluded.retry_at`,
      state.tenantId,
      state.userId,
      state.status,
      state.since,
      state.manual,
      state.offlineAt,
      state.publishedSince,
      state.retryAt,
    );
  }
}

function samePresence(a: PresenceState, b: PresenceState): boolean {
  return (Object.keys(a) as (keyof PresenceState)[]).every((key) => a[key] === b[key]);
}
