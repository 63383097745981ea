/**
 * `npm start`: the whole platform on this machine with embedded defaults. State lives in .data/
 * and survives restarts; Ctrl-C stops everything started here.
 *
 * Environment: DATABASE_URL to use an existing Postgres instead of the embedded PGlite (with
 * NEON_WS_PROXY if it needs a relay other than ours), PORT for the web port (default 8787),
 * CALLSTACK_DATA_DIR for the state (default .data/).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedDatabase } from '../edge/dev/pgliteServer.ts';
import { DEMO_TENANT, DEMO_USERS, demoSipCredentials, seed } from '../edge/scripts/seed.ts';
import { DEFAULT_SIP_REALM } from '../edge/src/config.ts';
import { startCoturn, type Turn } from './lib/coturn.ts';
import { ensureDir, freePort, stopOnSignal } from './lib/processes.ts';
import { startMailSink } from './lib/mailSink.ts';
import { startStripeStandIn } from './lib/stripeStandIn.ts';
import { buildMediaWorker, startMediaNode } from './lib/mediaNode.ts';
import { gatewayControlUrl, startSipEdge } from './lib/sipEdge.ts';
import { selfSignedCertificate } from './lib/tlsCertificate.ts';
import { buildWeb, prepareDatabase, ROOT, startEdge, type DatabaseEndpoint } from './lib/stack.ts';

const DATA = ensureDir(process.env.CALLSTACK_DATA_DIR ?? join(ROOT, '.data'));
const LOGS = ensureDir(join(DATA, 'logs'));
const stops: (() => Promise<void>)[] = [];
stopOnSignal(stops);

console.log('▶ building the web app');
buildWeb();

const database = await openDatabase();
console.log('▶ applying migrations');
const relay = await prepareDatabase(database);
stops.push(() => relay.close());
await seed({ databaseUrl: database.url, relayUrl: relay.url });

// Mail (password resets) lands as files in .data/outbox/.
const mail = await startMailSink(join(DATA, 'outbox'), localSecret('mail'));
stops.push(() => mail.close());

// STUN and TURN for the browsers (coturn, which bootstrap.mjs installs), on this machine's LAN
// addresses too, so a call between two machines has a relay when their direct path fails.
const turn = await startTurn();
const turnVars: Record<string, string> = turn ? { TURN_SECRET: turn.secret, TURN_URLS: turn.urls.join(',') } : {};

// Invoices are charged through the Stripe stand-in unless a real key is given (then its webhook
// endpoint must reach this machine, with STRIPE_WEBHOOK_SECRET its signing secret).
const stripeStandIn = process.env.STRIPE_SECRET_KEY ? null : await startStripeStandIn();
if (stripeStandIn) stops.push(() => stripeStandIn.close());
const stripeVars: Record<string, string> = stripeStandIn
  ? { STRIPE_SECRET_KEY: stripeStandIn.secretKey, STRIPE_WEBHOOK_SECRET: stripeStandIn.webhookSecret, STRIPE_API_URL: stripeStandIn.url }
  : { STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY!, STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET ?? '' };

console.log('▶ building the mediasoup worker (cached after the first time, about 5 min cold)');
buildMediaWorker();

console.log('▶ starting the edge (wrangler dev --local)');
const mediaSecret = localSecret('media');
const gatewayPort = await freePort();
const edge = await startEdge({
  stateDir: ensureDir(join(DATA, 'edge')),
  logFile: join(LOGS, 'edge.log'),
  port: Number(process.env.PORT ?? 8787),
  vars: {
    DATABASE_URL: database.url,
    NEON_WS_PROXY: relay.url,
    JWT_SECRET: localSecret('jwt'),
    MAIL_ENDPOINT: mail.url,
    MAIL_API_KEY: mail.apiKey,
    ...turnVars,
    ...stripeVars,
    // The demo company plays the platform operator: its admins upload rate decks in the console.
    PLATFORM_TENANT_ID: DEMO_TENANT.id,
    MEDIA_CONTROL_SECRET: mediaSecret,
    SIP_GATEWAY_URL: gatewayControlUrl(gatewayPort),
  },
});
stops.push(() => edge.stop());
stripeStandIn?.setWebhookUrl(`${edge.url}/api/billing/stripe/webhook`);

console.log('▶ starting a media node (conference rooms)');
const mediaNode = await startMediaNode({
  nodeId: 'local-media-1',
  edgeUrl: edge.url,
  secret: mediaSecret,
  logFile: join(LOGS, 'media-node.log'),
  rtcPorts: { min: 41000, max: 41999 },
});
stops.push(() => mediaNode.stop());

console.log('▶ starting the SIP edge: rtpengine, drachtio-server (built once, about 13 min cold), Kamailio, the gateway');
const sip = await startSipEdge({
  logsDir: LOGS,
  edgeUrl: edge.url,
  secret: mediaSecret,
  realm: DEFAULT_SIP_REALM,
  rtpPorts: { min: 40000, max: 40999 },
  voicemailDir: ensureDir(join(DATA, 'voicemail')),
  tls: await selfSignedCertificate(join(DATA, 'sip-tls'), DEFAULT_SIP_REALM),
  ws: true,
  controlPort: gatewayPort,
});
stops.push(() => sip.stop());

const width = Math.max(...DEMO_USERS.map((user) => user.email.length));
console.log(`
CallStack is running.

  Softphone:  ${edge.url}

  Demo logins (tenant "Demo Company"):
${DEMO_USERS.map((user) => `    ${user.email.padEnd(width)}  ${user.password}   (${user.displayName}, ${user.role})`).join('\n')}

  SIP phones: server ${sip.host}:${sip.port} (UDP or TCP), ${sip.host}:${sip.tlsPort} (TLS, self-signed), ws://${sip.host}:${sip.wsPort}/ (WebSocket); domain/realm ${sip.realm}
    username / password: ${DEMO_USERS.map((user) => Object.values(demoSipCredentials(user)).join(' / ')).join(', ')}
    e.g. a baresip account line:  <sip:${demoSipCredentials(DEMO_USERS[0]!).username}@${sip.realm}>;auth_pass=${demoSipCredentials(DEMO_USERS[0]!).password};outbound="sip:${sip.host}:${sip.port}"
    A registered phone rings with its user's softphone; dial a colleague's extension (shown in People).

  Media node (conference rooms):  ${mediaNode.controlUrl}
  STUN/TURN (coturn):  ${turn ? turn.urls.join(' ') : 'none (coturn is not installed)'}
  Mail (password resets):  ${mail.dir}
  Open the URL in two browser windows, sign in as two users and call one from the other.
  Logs: ${LOGS}   Data: ${DATA}   Stop: Ctrl-C
`);

async function startTurn(): Promise<Turn | null> {
  if (!existsSync('/usr/bin/turnserver')) {
    console.log('▶ coturn is not installed (apt-get install coturn): calls get no STUN or TURN servers');
    return null;
  }
  console.log('▶ starting coturn (STUN and TURN)');
  const started = await startCoturn(join(LOGS, 'coturn.log'), localSecret('turn'), { lan: true });
  stops.push(() => started.stop());
  return started;
}

async function openDatabase(): Promise<DatabaseEndpoint> {
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    return { url: url.toString(), host: url.hostname, port: Number(url.port || 5432) };
  }
  console.log(`▶ starting the embedded database (PGlite, ${join(DATA, 'pglite')})`);
  const embedded = await startEmbeddedDatabase(join(DATA, 'pglite'), await freePort());
  stops.push(() => embedded.close());
  return embedded;
}

/** A random secret generated on first start and kept in .data/, so sessions survive restarts. */
function localSecret(name: string): string {
  const file = join(DATA, `${name}.secret`);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
