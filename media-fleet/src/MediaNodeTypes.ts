import type { MediaNodeEvent } from '@callstack/protocol';

export interface MediaNodeEvents {
  /** Every event the node reports to the edge (delivered by EventSink when EDGE_URL is set). */
  event: [event: MediaNodeEvent];
  /** A drain started (the registrar tells the edge at once). */
  draining: [];
}

/** An event as a room or the pool raises it; the node adds `nodeId` and `at`. */
export type EventInput = MediaNodeEvent extends infer E ? (E extends MediaNodeEvent ? Omit<E, 'nodeId' | 'at'> : never) : never;
