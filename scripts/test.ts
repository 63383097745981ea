/**
 * `npm test`: every check of the project, in order, with one closing line `N passed, N failed`.
 *
 *   1. type-check, lint and the formatter's check (Prettier)
 *   2. unit tests: scripts, protocol, web, infra-cdk, media-fleet (Node; builds the mediasoup
 *      worker once), edge (in workerd, vitest-pool-workers)
 *   3. a real stack: PostgreSQL, the Neon relay, coturn, the edge under wrangler dev, one media node,
 *      and for the SIP suite the SIP edge (rtpengine, drachtio-server, Kamailio, the gateway)
 *   4. integration tests (Node clients), end-to-end tests (Chromium) and SIP tests (baresip, SIPp,
 *      Chromium) against that stack
 *
 * Each suite's test files are every `*.test.ts` under its folders, at any depth; before anything
 * runs, a test file in no suite's folder (or in two) fails the run (rule: tests/README.md).
 *
 * Arguments narrow the run to suites by name: `npm test -- integration e2e`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startCoturn } from './lib/coturn.ts';
import { startMailSink } from './lib/mailSink.ts';
import { startStripeStandIn } from './lib/stripeStandIn.ts';
import { buildMediaWorker, startMediaNode } from './lib/mediaNode.ts';
import { gatewayControlUrl, startSipEdge } from './lib/sipEdge.ts';
import { selfSignedCertificate } from './lib/tlsCertificate.ts';
import { startPostgres } from './lib/postgres.ts';
import { ensureDir, freePort } from './lib/processes.ts';
import { DEFAULT_SIP_REALM } from '../edge/src/config.ts';
import { buildWeb, prepareDatabase, ROOT, startEdge } from './lib/stack.ts';
import { claimTestFiles, findTestFiles } from './lib/testFiles.ts';

interface Counts {
  passed: number;
  failed: number;
}

interface Suite {
  name: string;
  needsStack: boolean;
  /** Folders whose `*.test.ts` files, at any depth, are this suite's; none for a command. */
  roots: string[];
  /** `files`: the suite's test files, narrowed by `npm test -- suite:part-of-name`. */
  run(env: NodeJS.ProcessEnv, files: string[]): Promise<Counts>;
}

const TMP = join(ROOT, '.tmp', 'test');
rmSync(TMP, { recursive: true, force: true });
const LOGS = ensureDir(join(TMP, 'logs'));

const nodeTests = (name: string, roots: string[], options: { needsStack?: boolean } = {}): Suite => ({
  name,
  needsStack: options.needsStack ?? false,
  roots,
  run: (env, files) => runNodeTests(name, files, env),
});

const command = (name: string, cmd: string, args: string[]): Suite => ({
  name,
  needsStack: false,
  roots: [],
  run: async (env) => ((await exec(cmd, args, env)) === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }),
});

const SUITES: Suite[] = [
  command('typecheck', 'npm', ['run', '--silent', 'typecheck']),
  command('lint', 'npm', ['run', '--silent', 'lint']),
  command('format', 'npm', ['run', '--silent', 'format:check']),
  nodeTests('scripts', ['scripts']),
  // `npm start` itself, started and stopped 20 times (before the test stack takes its ports).
  nodeTests('start', ['tests/start']),
  nodeTests('protocol', ['protocol/src']),
  nodeTests('web', ['web/src']),
  nodeTests('infra-cdk', ['infra-cdk/test']),
  {
    // The mediasoup worker is built from Debian's libraries once per version (cached outside
    // the checkout; about 5 min cold on 2 cores, under a second cached).
    name: 'media-fleet',
    needsStack: false,
    roots: ['media-fleet/src', 'media-fleet/test'],
    run: async (env, files) => {
      if ((await exec('npm', ['run', '--silent', 'build:worker', '-w', 'media-fleet'], env)) !== 0) return { passed: 0, failed: 1 };
      return runNodeTests('media-fleet', files, env);
    },
  },
  {
    // vitest picks its files by its own `include` (edge/vitest.config.ts, `test/**/*.test.ts`):
    // it is handed the claimed files as filters, and a claimed file it did not run is a failure.
    name: 'edge',
    needsStack: false,
    roots: ['edge/test'],
    run: async (env, files) => {
      const report = join(TMP, 'edge-vitest.json');
      const code = await exec(
        join(ROOT, 'node_modules/.bin/vitest'),
        ['run', '--root', 'edge', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...files.map((file) => relative('edge', file))],
        env,
      );
      return countVitest(report, code, files);
    },
  },
  nodeTests('integration', ['tests/integration'], { needsStack: true }),
  nodeTests('e2e', ['tests/e2e'], { needsStack: true }),
  // Desk phones (baresip), scripted SIP (SIPp) and browsers through Kamailio, rtpengine and the gateway.
  nodeTests('sip', ['tests/sip'], { needsStack: true }),
  nodeTests('sip-edge', ['sip-edge/src']),
];

// `suite` or `suite:part-of-a-file-name`, e.g. `npm test -- integration:rooms e2e`.
const selected = new Map(process.argv.slice(2).map((arg) => [arg.split(':')[0]!, arg.split(':')[1]]));
const suites = selected.size ? SUITES.filter((suite) => selected.has(suite.name)) : SUITES;
const totals: Counts = { passed: 0, failed: 0 };
const stops: (() => Promise<void>)[] = [];
const results: string[] = [];

// Checked on every run, narrowed or not: a test file no suite runs must not go unnoticed.
const claims = claimTestFiles(findTestFiles(ROOT), Object.fromEntries(SUITES.map((suite) => [suite.name, suite.roots])));
const unknown = [...selected.keys()].filter((name) => !SUITES.some((suite) => suite.name === name));
const problems = [...claims.problems, ...unknown.map((name) => `no suite is named ${name} (suites: ${SUITES.map((suite) => suite.name).join(', ')})`)];
if (problems.length) {
  console.error(`\n━━ test files ━━\n${problems.join('\n')}\n(where tests live: tests/README.md)`);
  totals.failed += problems.length;
  results.push(`${'test files'.padEnd(12)} 0 passed, ${problems.length} failed`);
}

// The edge's wrangler.toml serves web/dist: every suite that loads it needs the build.
buildWeb();

try {
  let stackEnv: NodeJS.ProcessEnv | undefined;
  for (const suite of suites) {
    console.log(`\n━━ ${suite.name} ━━`);
    const only = selected.get(suite.name);
    const files = (claims.bySuite.get(suite.name) ?? []).filter((file) => !only || file.slice(file.lastIndexOf('/') + 1).includes(only));
    if (suite.roots.length && files.length === 0) {
      console.error(`no test files${only ? ` named *${only}*` : ''} under ${suite.roots.join(', ')}`);
      totals.failed += 1;
      results.push(`${suite.name.padEnd(12)} 0 passed, 1 failed`);
      continue;
    }
    if (suite.needsStack && !stackEnv) stackEnv = await startStack({ sip: suites.some((each) => each.name === 'sip') });
    const started = Date.now();
    const counts = await suite.run({ ...process.env, ...stackEnv }, files);
    totals.passed += counts.passed;
    totals.failed += counts.failed;
    results.push(`${suite.name.padEnd(12)} ${counts.passed} passed, ${counts.failed} failed  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
} catch (error) {
  console.error(`\ntest run aborted: ${(error as Error).stack ?? error}`);
  totals.failed += 1;
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
}

console.log(`\n━━ summary ━━\n${results.join('\n')}\n\nlogs: ${LOGS}\n`);
if (problems.length) console.error(`${problems.join('\n')}\n`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 && totals.passed > 0 ? 0 : 1);

/** Starts the shared stack once and returns the environment the tests read it from. */
async function startStack(options: { sip: boolean }): Promise<NodeJS.ProcessEnv> {
  console.log(`\n━━ starting the test stack: PostgreSQL, relay, coturn, edge, media node${options.sip ? ', SIP edge' : ''} ━━`);
  buildMediaWorker();
  const postgres = await startPostgres(join(LOGS, 'postgres.log'));
  stops.push(() => postgres.stop());
  const relay = await prepareDatabase(postgres);
  stops.push(() => relay.close());
  const turn = await startCoturn(join(LOGS, 'coturn.log'), randomBytes(16).toString('hex'));
  stops.push(() => turn.stop());
  const jwtSecret = randomBytes(32).toString('base64url');
  const mail = await startMailSink(join(TMP, 'outbox'), randomBytes(16).toString('hex'));
  stops.push(() => mail.close());
  const stripe = await startStripeStandIn();
  stops.push(() => stripe.close());
  const mediaSecret = randomBytes(24).toString('hex');
  // Two carriers that SIPp plays in the sip suite, each on a loopback address of its own (the
  // address a carrier's calls come from is how the edge knows them): carrier-a first, then carrier-b.
  const carriers = [
    { id: 'carrier-a', host: '127.0.0.61', port: await freePort() },
    { id: 'carrier-b', host: '127.0.0.62', port: await freePort() },
  ];
  const trunks = carriers.map(({ id, host, port }) => ({ id, host, port, addresses: [host], country: 'GB', numberFormat: 'e164' }));
  const gatewayPort = await freePort();
  const vars = {
    DATABASE_URL: postgres.url,
    NEON_WS_PROXY: relay.url,
    JWT_SECRET: jwtSecret,
    TURN_SECRET: turn.secret,
    TURN_URLS: turn.urls.join(','),
    RING_TIMEOUT_SECONDS: '6',
    MAIL_ENDPOINT: mail.url,
    MAIL_API_KEY: mail.apiKey,
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
    STRIPE_API_URL: stripe.url,
    // The organisation whose admins upload rate decks; billing.test.ts creates it.
    PLATFORM_TENANT_ID: 't-platform',
    // Short enough for quick tests, long enough to reconnect within it; several shards per tenant.
    PRESENCE_OFFLINE_GRACE_SECONDS: '2',
    PRESENCE_SHARDS: '4',
    // Nodes register every 2 s (below); one silent for 10 s gets no rooms and its rooms move.
    MEDIA_CONTROL_SECRET: mediaSecret,
    MEDIA_NODE_TTL_SECONDS: '10',
    PSTN_TRUNKS: JSON.stringify(trunks),
    SIP_GATEWAY_URL: gatewayControlUrl(gatewayPort),
  };
  const edge = await startEdge({ stateDir: ensureDir(join(TMP, 'edge')), logFile: join(LOGS, 'edge.log'), vars });
  stops.push(() => edge.stop());
  stripe.setWebhookUrl(`${edge.url}/api/billing/stripe/webhook`);
  const mediaNode = await startMediaNode({
    nodeId: 'local-media-1',
    edgeUrl: edge.url,
    secret: mediaSecret,
    logFile: join(LOGS, 'media-node-1.log'),
    rtcPorts: { min: 42000, max: 42199 },
    registerIntervalSeconds: 2,
    plainTransports: true,
    recordingsDir: join(TMP, 'recordings'),
  });
  stops.push(() => mediaNode.stop());
  // rtpengine's ports sit above the media node's and coturn's relay ranges.
  const sip = options.sip
    ? await startSipEdge({
        logsDir: LOGS,
        edgeUrl: edge.url,
        secret: mediaSecret,
        realm: DEFAULT_SIP_REALM,
        rtpPorts: { min: 43000, max: 43999 },
        voicemailDir: ensureDir(join(TMP, 'voicemail')),
        dtmfLogPort: await freePort(),
        // Registrations in PostgreSQL, as on the SIP nodes (usrloc db_mode 3).
        databaseUrl: postgres.url,
        // Every transport npm start opens.
        tls: await selfSignedCertificate(join(TMP, 'sip-tls'), DEFAULT_SIP_REALM),
        ws: true,
        // SIPp plays the carriers one call at a time: an OPTIONS probe would arrive as a call of its own.
        trunkProbeSeconds: 0,
        controlPort: gatewayPort,
      })
    : null;
  if (sip) stops.push(() => sip.stop());
  console.log(
    `edge ${edge.url}, postgres :${postgres.port}, relay ${relay.url}, coturn :${turn.port}, media node ${mediaNode.controlUrl}${sip ? `, SIP ${sip.host}:${sip.port}` : ''}`,
  );
  // Tests that start their own edge reuse these settings.
  return {
    CALLSTACK_URL: edge.url,
    CALLSTACK_EDGE_VARS: JSON.stringify(vars),
    CALLSTACK_TEST_TMP: TMP,
    CALLSTACK_OUTBOX_DIR: mail.dir,
    CALLSTACK_STRIPE: JSON.stringify({ url: stripe.url, secretKey: stripe.secretKey, webhookSecret: stripe.webhookSecret }),
    DATABASE_URL: postgres.url,
    NEON_WS_PROXY: relay.url,
    JWT_SECRET: jwtSecret,
    CALLSTACK_MEDIA_SECRET: mediaSecret,
    CALLSTACK_CARRIERS: JSON.stringify(carriers),
    // The tests' own nodes register the same way; rooms.test.ts kills this one (SIGKILL) last.
    CALLSTACK_MEDIA_NODE: JSON.stringify({ nodeId: mediaNode.nodeId, controlUrl: mediaNode.controlUrl, pid: mediaNode.service.pid }),
    ...(sip
      ? {
          CALLSTACK_SIP: JSON.stringify({
            host: sip.host,
            port: sip.port,
            tlsPort: sip.tlsPort,
            realm: sip.realm,
            rtpengineNgPort: sip.rtpengineNgPort,
            dtmfLogPort: sip.dtmfLogPort,
          }),
        }
      : {}),
  };
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** Node's test runner, given the files (it expands globs only from Node 21 on). */
async function runNodeTests(name: string, files: string[], env: NodeJS.ProcessEnv): Promise<Counts> {
  const tap = join(TMP, `${name}.tap`);
  const code = await exec(
    process.execPath,
    [
      '--import',
      'tsx',
      // One fixed fast-check seed for every property (scripts/lib/fuzzSeed.ts).
      '--import',
      join(ROOT, 'scripts/lib/fuzzSeed.ts'),
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    env,
  );
  return countTap(tap, code);
}

function countTap(file: string, exitCode: number): Counts {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { passed: 0, failed: 1 };
  }
  const passed = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
  const failed = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(text)?.[1] ?? 0);
  // A crash before any test ran still counts as a failure.
  return { passed, failed: failed || (exitCode !== 0 ? 1 : 0) };
}

function countVitest(file: string, exitCode: number, claimed: string[]): Counts {
  let report: { numPassedTests: number; numFailedTests: number; testResults: { name: string }[] };
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as typeof report;
  } catch {
    return { passed: 0, failed: 1 };
  }
  // A file outside vitest's `include` is silently skipped by it: each one counts as a failure.
  const ran = new Set(report.testResults.map((result) => relative(ROOT, result.name)));
  const skipped = claimed.filter((name) => !ran.has(name));
  for (const name of skipped) console.error(`${name}: not run by vitest (check \`include\` in edge/vitest.config.ts)`);
  return { passed: report.numPassedTests, failed: report.numFailedTests + skipped.length || (exitCode !== 0 ? 1 : 0) };
}
