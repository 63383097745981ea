/**
 * The SIP gateway process: connects to drachtio-server, serves the control API, and stops
 * cleanly on SIGTERM/SIGINT (calls in progress end with the process; Kamailio has other gateways).
 */
import Srf from 'drachtio-srf';
import { pino } from 'pino';
import { parseGatewayConfig } from './config.ts';
import { ControlServer } from './ControlServer.ts';
import { TrunkSources } from './TrunkSources.ts';
import { EdgeClient } from './EdgeClient.ts';
import { Gateway } from './Gateway.ts';
import { MediaAnchor } from './MediaAnchor.ts';
import { probeWithOptions, TrunkHealth } from './TrunkHealth.ts';

const config = parseGatewayConfig(process.env);
const log = pino({ level: config.logLevel, base: { nodeId: config.nodeId } });

const srf = new Srf();
await new Promise<void>((resolve, reject) => {
  srf.once('connect', (error: Error | null) => (error ? reject(error) : resolve()));
  srf.once('error', reject);
  srf.connect({ host: config.drachtio.host, port: config.drachtio.port, secret: config.drachtio.secret });
});
srf.on('error', (error: Error) => log.error({ err: error }, 'sip.drachtio_error'));

const anchor = new MediaAnchor(config.rtpengine);
if (!(await anchor.ping())) log.warn(config.rtpengine, 'sip.rtpengine_unreachable');
const edge = new EdgeClient(config.edgeUrl, config.secret, { nodeId: config.nodeId, controlUrl: config.controlUrl });
const health = new TrunkHealth(probeWithOptions(srf), log, config.trunkProbeIntervalMs);
const gateway = new Gateway(srf, edge, anchor, log, { realm: config.realm, proxy: config.proxy }, health, config.voicemail);
const trunks = new TrunkSources(() => edge.trunks(), log);
const control = new ControlServer({ secret: config.secret, localToken: config.localToken, gateway, edge, trunks, log, voicemailDir: config.voicemail.dir });
const port = await control.listen(config.listen.port, config.listen.host);
log.info({ port, drachtio: `${config.drachtio.host}:${config.drachtio.port}` }, 'sip gateway ready');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, calls: gateway.activeCalls }, 'sip gateway stopping');
    void control.close().finally(() => {
      health.stop();
      srf.disconnect();
      anchor.close();
      process.exit(0);
    });
  });
}
