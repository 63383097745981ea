/**
 * Where the room's media lives: picking a node from the MediaFleet registry and creating the room
 * there (first placement), and moving it off a node that failed (failover). Both end in roomState's
 * `placed`: everyone already in the room is joined on the new node and told to rebuild
 * (`room.migrate`). Every method runs inside the Room object's serial queue.
 */
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { mediaFleet } from '../objects/stubs.ts';
import { NodeDraining, NodeUnreachable } from './control.ts';
import { nodeLost, placed } from './roomState.ts';
import type { RoomNode } from './RoomNode.ts';
import type { MigrateReason, PlacedNode, RoomState, RoomStore } from './roomTypes.ts';

/** Nodes tried per placement before the room reports `media_unavailable`. */
const PLACEMENT_CANDIDATES = 3;

export class RoomPlacement {
  constructor(
    private readonly env: Env,
    private readonly control: RoomNode,
    private readonly store: RoomStore,
  ) {}

  /**
   * Puts a room that has no node on the least-loaded usable one (not in `exclude`), joining
   * whoever is already in it there: nobody on a first placement; everyone after a move, or after
   * a move that found no node (then they are told `reason`). Returns the saved state; its node is
   * null when no node could take the room.
   */
  async place(state: RoomState, reason: MigrateReason = 'node-failed', exclude: string[] = [], from: string | null = null): Promise<RoomState> {
    const created = await this.create(state, exclude);
    const node = created && (await this.rejoin(state, created)) ? created : null;
    const next = await this.store.commit(state, placed(state, node, reason));
    const ids = { tenantId: state.tenantId, roomId: state.roomId, from, reason };
    if (!node) {
      if (state.participants.length > 0) log.error('room.no_node', ids);
    } else if (state.participants.length > 0) {
      log.warn('room.migrated', { ...ids, nodeId: node.nodeId, participants: state.participants.length });
    } else {
      log.info('room.placed', { ...ids, nodeId: node.nodeId });
    }
    return next;
  }

  /**
   * Moves the room off `from`, which failed it (or whose worker died), to another node. Does
   * nothing when the room is no longer on `from` (another request moved it first). Returns the
   * node the room is on, or null.
   */
  async move(from: string, reason: MigrateReason): Promise<PlacedNode | null> {
    const state = await this.store.load();
    if (!state) return null;
    const lost = nodeLost(state, from, reason);
    if (!lost) return state.node;
    const left = await this.store.commit(state, lost);
    return (await this.place(left, reason, lost.exclude, from)).node;
  }

  /**
   * Joins a new peer on the room's node; a node that does not answer is moved away from once and
   * the peer joined on the next. Returns the node the peer is on (null: no node could take the room).
   */
  async joinPeer(node: PlacedNode, peerId: string): Promise<PlacedNode | null> {
    try {
      await this.control.send(node, { type: 'peer.join', roomId: this.control.roomId, peerId });
      return node;
    } catch (error) {
      if (!(error instanceof NodeUnreachable)) throw error;
      const moved = await this.move(node.nodeId, 'node-failed');
      if (moved) await this.control.send(moved, { type: 'peer.join', roomId: this.control.roomId, peerId });
      return moved;
    }
  }

  /** Creates the room on the least-loaded usable node, trying a few candidates. */
  private async create(state: RoomState, exclude: string[]): Promise<PlacedNode | null> {
    const fleet = mediaFleet(this.env);
    const skip = [...exclude];
    for (let attempt = 0; attempt < PLACEMENT_CANDIDATES; attempt++) {
      const candidate = await fleet.pick(skip);
      if (!candidate) return null;
      try {
        const created = await this.control.send(candidate, { type: 'room.create', roomId: this.control.roomId });
        return { ...candidate, placedAt: Date.now(), rtpCapabilities: created.rtpCapabilities };
      } catch (error) {
        if (!(error instanceof NodeUnreachable || error instanceof NodeDraining)) throw error;
        log.warn('room.placement_failed', { tenantId: state.tenantId, roomId: state.roomId, nodeId: candidate.nodeId }, error);
        if (error instanceof NodeUnreachable) await fleet.reportFailure(candidate.nodeId);
        await fleet.release(candidate.nodeId);
        skip.push(candidate.nodeId);
      }
    }
    return null;
  }

  /** Joins everyone already in the room on `node`; false (and the node released) when it fails them. */
  private async rejoin(state: RoomState, node: PlacedNode): Promise<boolean> {
    try {
      for (const participant of state.participants) {
        await this.control.send(node, { type: 'peer.join', roomId: this.control.roomId, peerId: participant.peerId });
      }
      return true;
    } catch (error) {
      log.error('room.rejoin_failed', { tenantId: state.tenantId, roomId: state.roomId, nodeId: node.nodeId }, error);
      await mediaFleet(this.env).release(node.nodeId);
      return false;
    }
  }
}

/** How often an occupied room checks its node's registration: a third of the TTL, 5-60 s. */
export function healthCheckMs(env: Env): number {
  return Math.min(60_000, Math.max(5_000, config(env).mediaNodeTtlMs / 3));
}
