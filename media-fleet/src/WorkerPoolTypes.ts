import type { Logger } from 'pino';
import type { WorkerLoad } from '@callstack/protocol';

export type { WorkerLoad };

export interface WorkerPoolOptions {
  /** Workers to run; one per core is what mediasoup is designed for. */
  count: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logger: Logger;
  /**
   * Restart a dead worker unless this many deaths happened within `restartWindowMs` (a worker
   * that dies at once again would otherwise loop).
   */
  maxRestarts?: number;
  restartWindowMs?: number;
}

export interface WorkerPoolEvents {
  /** A worker exited unexpectedly; its routers are closed. `replaced`: a new one is starting. */
  died: [info: { pid: number; replaced: boolean; error: Error }];
}
