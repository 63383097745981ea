import { pino, type Logger } from 'pino';
import type { MediaConfig } from './config.ts';

/** JSON lines on stdout (journald on the nodes); children add roomId, peerId, workerPid. */
export function createLogger(config: Pick<MediaConfig, 'logLevel' | 'nodeId' | 'region'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'media-fleet', nodeId: config.nodeId, region: config.region } });
}
