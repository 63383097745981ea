/**
 * `npm test`: every check of the project, in order, with one closing line `N passed, N failed`.
 *
 *   1. type-check and lint
 *   2. unit tests: protocol, web, infra-cdk, media-fleet (Node; builds the mediasoup worker once),
 *      edge (in workerd, vitest-pool-workers)
 *   3. a real stack: PostgreSQL, the Neon relay, coturn, the edge under wrangler dev, one media node
 *   4. integration tests (Node clients) and end-to-end tests (Chromium) against that stack
 *
 * Arguments narrow the run to suites by name: `npm test -- integration e2e`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCoturn } from './lib/coturn.ts';
import { startMailSink } from './lib/mailSink.ts';
import { buildMediaWorker, startMediaNode } from './lib/mediaNode.ts';
import { startPostgres } from './lib/postgres.ts';
import { ensureDir } from './lib/processes.ts';
import { buildWeb, prepareDatabase, ROOT, startEdge } from './lib/stack.ts';

interface Counts {
  passed: number;
  failed: number;
}

interface Suite {
  name: string;
  needsStack: boolean;
  /** `only`: run just the test files whose name contains it (`npm test -- e2e:conference`). */
  run(env: NodeJS.ProcessEnv, only?: string): Promise<Counts>;
}

const TMP = join(ROOT, '.tmp', 'test');
rmSync(TMP, { recursive: true, force: true });
const LOGS = ensureDir(join(TMP, 'logs'));

const nodeTests = (name: string, files: string | string[], options: { needsStack?: boolean; concurrency?: number } = {}): Suite => ({
  name,
  needsStack: options.needsStack ?? false,
  run: async (env, only) => {
    const tap = join(TMP, `${name}.tap`);
    const testFiles = [files].flat().flatMap(expand).filter((file) => !only || file.slice(file.lastIndexOf('/') + 1).includes(only));
    if (testFiles.length === 0) {
      console.error(`no test files match ${[files].flat().join(' ')}`);
      return { passed: 0, failed: 1 };
    }
    const code = await exec(
      process.execPath,
      [
        '--import', 'tsx', '--test',
        `--test-concurrency=${options.concurrency ?? 1}`,
        '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=tap', `--test-reporter-destination=${tap}`,
        ...testFiles,
      ],
      env,
    );
    return countTap(tap, code);
  },
});

const command = (name: string, cmd: string, args: string[]): Suite => ({
  name,
  needsStack: false,
  run: async (env) => ((await exec(cmd, args, env)) === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }),
});

const SUITES: Suite[] = [
  command('typecheck', 'npm', ['run', '--silent', 'typecheck']),
  command('lint', 'npm', ['run', '--silent', 'lint']),
  nodeTests('protocol', 'protocol/src/*.test.ts'),
  nodeTests('web', ['web/src/*.test.ts', 'web/src/*/*.test.ts']),
  nodeTests('infra-cdk', 'infra-cdk/test/*.test.ts'),
  {
    // The mediasoup worker is built from Debian's libraries once per version (cached outside
    // the checkout; about 5 min cold on 2 cores, under a second cached).
    name: 'media-fleet',
    needsStack: false,
    run: async (env, only) => {
      if ((await exec('npm', ['run', '--silent', 'build:worker', '-w', 'media-fleet'], env)) !== 0) return { passed: 0, failed: 1 };
      return nodeTests('media-fleet-tests', ['media-fleet/src/*.test.ts', 'media-fleet/test/*.test.ts']).run(env, only);
    },
  },
  {
    name: 'edge',
    needsStack: false,
    run: async (env) => {
      const report = join(TMP, 'edge-vitest.json');
      const code = await exec(
        join(ROOT, 'node_modules/.bin/vitest'),
        ['run', '--root', 'edge', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
        env,
      );
      return countVitest(report, code);
    },
  },
  nodeTests('integration', 'tests/integration/*.test.ts', { needsStack: true }),
  nodeTests('e2e', 'tests/e2e/*.test.ts', { needsStack: true }),
];

// The edge's wrangler.toml serves web/dist: every suite that loads it needs the build.
buildWeb();

// `suite` or `suite:part-of-a-file-name`, e.g. `npm test -- integration:rooms e2e`.
const selected = new Map(process.argv.slice(2).map((arg) => [arg.split(':')[0]!, arg.split(':')[1]]));
const suites = selected.size ? SUITES.filter((suite) => selected.has(suite.name)) : SUITES;
const totals: Counts = { passed: 0, failed: 0 };
const stops: (() => Promise<void>)[] = [];
const results: string[] = [];

try {
  let stackEnv: NodeJS.ProcessEnv | undefined;
  for (const suite of suites) {
    if (suite.needsStack && !stackEnv) stackEnv = await startStack();
    console.log(`\n━━ ${suite.name} ━━`);
    const started = Date.now();
    const counts = await suite.run({ ...process.env, ...stackEnv }, selected.get(suite.name));
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
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 && totals.passed > 0 ? 0 : 1);

/** Starts the shared stack once and returns the environment the tests read it from. */
async function startStack(): Promise<NodeJS.ProcessEnv> {
  console.log('\n━━ starting the test stack: PostgreSQL, relay, coturn, edge, media node ━━');
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
  const mediaSecret = randomBytes(24).toString('hex');
  const vars = {
    DATABASE_URL: postgres.url,
    NEON_WS_PROXY: relay.url,
    JWT_SECRET: jwtSecret,
    TURN_SECRET: turn.secret,
    TURN_URLS: turn.urls.join(','),
    RING_TIMEOUT_SECONDS: '6',
    MAIL_ENDPOINT: mail.url,
    MAIL_API_KEY: mail.apiKey,
    // Short enough for quick tests, long enough to reconnect within it; several shards per tenant.
    PRESENCE_OFFLINE_GRACE_SECONDS: '2',
    PRESENCE_SHARDS: '4',
    // Nodes register every 2 s (below); one silent for 10 s gets no rooms and its rooms move.
    MEDIA_CONTROL_SECRET: mediaSecret,
    MEDIA_NODE_TTL_SECONDS: '10',
  };
  const edge = await startEdge({ stateDir: ensureDir(join(TMP, 'edge')), logFile: join(LOGS, 'edge.log'), vars });
  stops.push(() => edge.stop());
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
  console.log(`edge ${edge.url}, postgres :${postgres.port}, relay ${relay.url}, coturn :${turn.port}, media node ${mediaNode.controlUrl}`);
  // Tests that start their own edge reuse these settings.
  return {
    CALLSTACK_URL: edge.url,
    CALLSTACK_EDGE_VARS: JSON.stringify(vars),
    CALLSTACK_TEST_TMP: TMP,
    CALLSTACK_OUTBOX_DIR: mail.dir,
    DATABASE_URL: postgres.url,
    NEON_WS_PROXY: relay.url,
    JWT_SECRET: jwtSecret,
    CALLSTACK_MEDIA_SECRET: mediaSecret,
    // The tests' own nodes register the same way; rooms.test.ts kills this one (SIGKILL) last.
    CALLSTACK_MEDIA_NODE: JSON.stringify({ nodeId: mediaNode.nodeId, controlUrl: mediaNode.controlUrl, pid: mediaNode.service.pid }),
  };
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * Node's test runner takes globs only from Node 21 on: expand `dir/*.test.ts` here, and a `*`
 * folder before it (`web/src/<any folder>/*.test.ts`).
 */
function expand(pattern: string): string[] {
  const dir = pattern.slice(0, pattern.lastIndexOf('/'));
  const suffix = pattern.slice(pattern.lastIndexOf('*') + 1);
  if (dir.endsWith('/*')) return subfolders(dir.slice(0, -2)).flatMap((folder) => expand(`${folder}/*${suffix}`));
  try {
    return readdirSync(join(ROOT, dir)).sort().filter((name) => name.endsWith(suffix)).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name)).sort();
  } catch {
    return [];
  }
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

function countVitest(file: string, exitCode: number): Counts {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8')) as { numPassedTests: number; numFailedTests: number };
    return { passed: report.numPassedTests, failed: report.numFailedTests || (exitCode !== 0 ? 1 : 0) };
  } catch {
    return { passed: 0, failed: 1 };
  }
}
