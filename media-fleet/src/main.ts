/**
 * The media-fleet service: `node --import tsx media-fleet/src/main.ts` (config from the
 * environment, see README). SIGTERM/SIGINT: stop taking requests, close rooms and workers,
 * flush events, exit.
 */
import { ConfigError, loadConfig } from './config.ts';
import { ControlServer } from './ControlServer.ts';
import { createLogger } from './logger.ts';
import { MediaNode } from './MediaNode.ts';
import { createMetrics } from './metrics.ts';
import { Registrar } from './Registrar.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}
const logger = createLogger(config);
const node = await MediaNode.start(config, logger);
const server = new ControlServer({ node, metrics: createMetrics(node), secret: config.controlSecret, logger });
const address = await server.listen(config.listenPort, config.listenHost);
logger.info({ address: address.address, port: address.port, workers: config.workers, announcedIp: config.rtc.announcedIp }, 'media-fleet listening');

const { edgeUrl, registerIntervalSeconds } = config;
const registrar =
  edgeUrl && registerIntervalSeconds
    ? new Registrar(
        { ...config, edgeUrl, registerIntervalSeconds },
        node,
        config.controlUrl ?? `http://${config.rtc.announcedIp ?? config.listenHost}:${address.port}`,
        logger,
      )
    : undefined;
if (registrar && (await registrar.register())) logger.info({ edgeUrl }, 'registered with the edge');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, rooms: node.rooms.size }, 'shutting down');
  registrar?.close();
  await server.close();
  await node.close();
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
