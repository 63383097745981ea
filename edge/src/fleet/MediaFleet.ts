/**
 * The node registry: one Durable Object for the whole fleet (`global`). Nodes register every
 * minute (POST /api/fleet/nodes); rooms ask it for a node when they start or move. Keeping it in
 * one object keeps placement off Postgres and makes "pick and count" atomic: two rooms placed at
 * the same moment see each other's placement. Load: heartbeats every minute ≪ the ~1,000 req/s an
 * object serves, and placement happens once per room start or move, not per message.
 */
import type { MediaNodeRegistration, NodeRegistration } from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';

/**
 * A room placed since the node's last report counts as this many consumers per worker until the
 * next report includes it, so a burst of new rooms spreads instead of piling on one node.
 */
const PLACED_ROOM_WEIGHT = 10;

/** A node the registry offers a room: a room that is placed there keeps more (roomTypes.ts `PlacedNode`). */
export interface NodeCandidate {
  nodeId: string;
  controlUrl: string;
}

type NodeRow = {
  node_id: string;
  kind: string;
  region: string;
  control_url: string | null;
  draining: number;
  last_seen: number;
  /** Set when a room could not reach the node; cleared by its next registration. */
  failed_at: number | null;
  consumers: number;
  workers: number;
  placed_since_report: number;
};

export class MediaFleet extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `create table if not exists nodes (
         node_id text primary key, kind text not null, region text not null, control_url text,
         draining integer not null, last_seen integer not null, failed_at integer,
         consumers integer not null default 0, workers integer not null default 1,
         placed_since_report integer not null default 0, registration text not null)`,
    );
  }

  register(registration: NodeRegistration): void {
    const media: MediaNodeRegistration | null = registration.kind === 'media' ? registration : null;
    const previous = this.row(registration.instanceId);
    this.ctx.storage.sql.exec(
      `insert into nodes (node_id, kind, region, control_url, draining, last_seen, failed_at, consumers, workers, placed_since_report, registration)
       values (?, ?, ?, ?, ?, ?, null, ?, ?, 0, ?)
       on conflict (node_id) do update set kind = excluded.kind, region = excluded.region,
         control_url = excluded.control_url, draining = excluded.draining, last_seen = excluded.last_seen,
         failed_at = null, consumers = excluded.consumers, workers = excluded.workers,
         placed_since_report = case when ? then 0 else nodes.placed_since_report end,
         registration = excluded.registration`,
      registration.instanceId,
      registration.kind,
      registration.region,
      media?.controlUrl ?? null,
      registration.draining ? 1 : 0,
      Date.now(),
      media?.load?.consumers ?? 0,
      media?.load?.workers ?? 1,
      JSON.stringify(registration),
      // Without a load report, the edge's own count of placed rooms is all it knows.
      media?.load ? 1 : 0,
    );
    if (!previous || previous.draining !== (registration.draining ? 1 : 0) || previous.failed_at !== null) {
      log.info('fleet.node_registered', {
        nodeId: registration.instanceId,
        kind: registration.kind,
        region: registration.region,
        draining: registration.draining,
      });
    }
  }

  /**
   * The least-loaded fresh, non-draining, non-failing media node (not in `exclude`), counted as
   * one more room; null when there is none.
   */
  pick(exclude: string[] = []): NodeCandidate | null {
    const fresh = Date.now() - config(this.env).mediaNodeTtlMs;
    const candidates = this.ctx.storage.sql
      .exec<NodeRow>(`select * from nodes where kind = 'media' and draining = 0 and failed_at is null and last_seen >= ? and control_url is not null`, fresh)
      .toArray()
      .filter((node) => !exclude.includes(node.node_id));
    const score = (node: NodeRow) => node.consumers / Math.max(1, node.workers) + node.placed_since_report * PLACED_ROOM_WEIGHT;
    candidates.sort((a, b) => score(a) - score(b) || a.node_id.localeCompare(b.node_id));
    const chosen = candidates[0];
    if (!chosen) return null;
    this.ctx.storage.sql.exec('update nodes set placed_since_report = placed_since_report + 1 where node_id = ?', chosen.node_id);
    return { nodeId: chosen.node_id, controlUrl: chosen.control_url! };
  }

  /** A room left the node before its next report. */
  release(nodeId: string): void {
    this.ctx.storage.sql.exec('update nodes set placed_since_report = max(0, placed_since_report - 1) where node_id = ?', nodeId);
  }

  /** A room could not reach the node: no new rooms there until it registers again. */
  reportFailure(nodeId: string): void {
    this.ctx.storage.sql.exec('update nodes set failed_at = ? where node_id = ? and failed_at is null', Date.now(), nodeId);
    log.warn('fleet.node_failed', { nodeId });
  }

  /** Whether a room may stay on the node: registered recently and not reported failing. Draining nodes keep their rooms. */
  isHealthy(nodeId: string): boolean {
    const row = this.row(nodeId);
    return row !== undefined && row.failed_at === null && row.last_seen >= Date.now() - config(this.env).mediaNodeTtlMs;
  }

  private row(nodeId: string): NodeRow | undefined {
    return this.ctx.storage.sql.exec<NodeRow>('select * from nodes where node_id = ?', nodeId).toArray()[0];
  }
}
