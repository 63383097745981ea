/**
 * `npm run bench:sip`: the SIP edge under load (issue 11), with SIPp, on a stack of its own:
 * PostgreSQL, the relay, the edge on workerd directly (directEdge.ts), and the SIP edge (rtpengine, drachtio-server,
 * Kamailio, the gateway) as `npm start` runs them, plus a second Kamailio running
 * tests/bench/scenarios/kamailio-alone.cfg (a plain registrar and proxy) as the baseline.
 *
 *   1. REGISTER rate: phones registering with digest (401, then 200) through Kamailio, each
 *      REGISTER from a user not seen before (as a phone's refresh every 600 s misses the 30 s HA1
 *      cache, so the HA1 comes from the edge through the gateway every time), stepped up until a
 *      registration fails. Response time: authenticated REGISTER -> 200.
 *   2. Calls through the whole path: caller INVITE (407, then authenticated with a PCMU offer) to
 *      the callee's extension; Kamailio -> drachtio -> gateway -> edge (route, call state, ringing
 *      every device of the callee) -> gateway -> Kamailio -> the callee's phone (a SIPp UAS that
 *      offers in its 200, as the gateway's INVITEs carry none), media anchored in rtpengine (one
 *      rtpengine call per leg; SIPp sends no RTP, so this is signalling and anchoring, not
 *      forwarding); 180, 200, ACK, the call's length, BYE. Post-dial delay: authenticated
 *      INVITE -> 180.
 *   3. The same calls against Kamailio alone (lookup + t_relay straight to the callee's phone),
 *      steps interleaved with 2 so machine noise shows in both.
 *   4. Calls to the outside: the callers dial a UK number; the edge's outbound decision (toll-fraud
 *      guard, the tenant's PstnGuard object, the call's record), the gateway's TrunkCall to the
 *      carrier trunk (a SIPp UAS on the trunk's own address that echoes RTP), media anchored in
 *      rtpengine both ways; stepped up until a call fails. PDD: authenticated INVITE -> 180.
 *   5. Calls to the outside held with media: N calls at once, each caller sending PCMU at 50
 *      packets/s (SIPp rtp_stream) that the carrier echoes, so rtpengine forwards 100 packets/s per
 *      call; once all are up, rtpengine's CPU over a window of --hold-seconds, per concurrent call.
 *
 * CPU per call or registration is each process group's utime+stime from /proc, summed over the
 * group's processes, before and after a step (idle work included: an idle window is printed).
 * Every Service is spawned detached, so each is the root of its own process tree here.
 *
 * Kamailio's pike bans a source sending 30 requests in 2 s (CALLSTACK_PIKE_REQS, which startSipEdge
 * does not expose), so load is spread over many loopback source addresses: SIPp's `-t ui` sends
 * each call from the address in its injection row, at most REGISTERS_PER_ADDRESS registrations or
 * CALLS_PER_ADDRESS calls per second per address, fresh addresses for every step. Bans are counted
 * from Kamailio's log and printed.
 *
 *   npm run bench:sip -- --register-rates 2,5,10,20,40 --call-rates 1,2,5,10,20,40,80,160 --pairs 40
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { report as reportFigures } from './report.ts';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withClient } from '../../edge/scripts/migrations.ts';
import { DEFAULT_SIP_REALM } from '../../edge/src/config.ts';
import { KAMAILIO_BIN } from '../../scripts/lib/kamailio.ts';
import { startPostgres } from '../../scripts/lib/postgres.ts';
import { ensureDir, freePort, Service, startInDir, stopOnSignal } from '../../scripts/lib/processes.ts';
import { startSipEdge } from '../../scripts/lib/sipEdge.ts';
import { buildWeb, prepareDatabase, ROOT } from '../../scripts/lib/stack.ts';
import { startDirectEdge } from './directEdge.ts';
import { percentile } from './stack.ts';

const { values } = parseArgs({
  options: {
    'register-rates': { type: 'string', default: '2,5,10,20,40' },
    'register-seconds': { type: 'string', default: '4' },
    'call-rates': { type: 'string', default: '1,2,5,10,20,40,80,160' },
    'call-seconds': { type: 'string', default: '4' },
    pairs: { type: 'string', default: '40' },
    'call-ms': { type: 'string', default: '500' },
    'pstn-rates': { type: 'string', default: '2,5,10,20,40' },
    // Ramped up below what call setup sustains here (a few calls/s on this machine), so the step measures media, not setup.
    'hold-calls': { type: 'string', default: '30,90,180' },
    'hold-rate': { type: 'string', default: '3' },
    'hold-seconds': { type: 'string', default: '10' },
  },
});
const numbers = (text: string) => text.split(',').map(Number);
const REGISTER_RATES = numbers(values['register-rates']);
const REGISTER_SECONDS = Number(values['register-seconds']);
const CALL_RATES = numbers(values['call-rates']);
const CALL_SECONDS = Number(values['call-seconds']);
/** Caller/callee pairs: a user is in one call at a time (a second would be busy), so calls rotate over them. */
const PAIRS = Number(values.pairs);
/** How long each answered call lasts before the caller's BYE (SIPp -d). */
const CALL_MS = Number(values['call-ms']);
const PSTN_RATES = numbers(values['pstn-rates']);
const HOLD_CALLS = numbers(values['hold-calls']);
const HOLD_RATE = Number(values['hold-rate']);
const HOLD_SECONDS = Number(values['hold-seconds']);
/** The carrier trunk SIPp plays, on an address of its own (how the edge knows a trunk). */
const CARRIER_HOST = '127.0.0.71';
/** What the callers dial: a London number, in the bench tenant's country (GB), so no international opening is needed. */
const DIALLED = '02079460958';
/** Low rates still get enough calls for percentiles and CPU per call. */
const MIN_CALLS = 10;
const REALM = DEFAULT_SIP_REALM;
const PASSWORD = 'bench-sip-pass';
// 2 requests per registration, 5 per call (INVITE, ACK, INVITE, ACK, BYE): well under pike's 30 per 2 s with retransmissions.
const REGISTERS_PER_ADDRESS = 2;
const CALLS_PER_ADDRESS = 1;
/** Callee phones (SIPp UAS) per path; each registers its share of the callees from its own address. */
const PHONES = 4;
/** After a step's last call: the callee phones' BYEs and the statistics files (written every second) catch up. */
const DRAIN_MS = 2_500;
/** Calls between phones, start-up included, within 4.5 minutes: later steps are skipped past this. */
const DEADLINE = Date.now() + 270_000;
/** Calls to the outside come after (held calls take their ramp and window), then registrations: budgets of their own (9.5 minutes in all). */
const PSTN_DEADLINE = DEADLINE + 240_000;
const REGISTER_DEADLINE = PSTN_DEADLINE + 60_000;
const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const SIPP_BIN = '/usr/bin/sipp';

const GROUPS = ['kamailio', 'drachtio', 'gateway', 'rtpengine', 'edge', 'postgres', 'kamailio-alone', 'bench', 'sipp'] as const;
type Group = (typeof GROUPS)[number];
type Cpu = Map<Group, number>;

interface Target {
  host: string;
  port: number;
}

interface StepResult {
  kind: 'register' | 'full' | 'alone' | 'pstn' | 'hold';
  rate: number;
  planned: number;
  attempted: number;
  succeeded: number;
  failed: number;
  retransmissions: number;
  /** Calls (registrations) per second that reached the timer's end: its samples over the time from the first to the last. */
  achieved: number;
  /** The step's timer (REGISTER -> 200, or INVITE -> 180), ascending ms. */
  times: number[];
  addresses: number;
  bans: number;
  /** Calls the callee phones completed (INVITE to BYE) during the step. */
  answered?: number;
  /** Held calls (kind `hold`): rtpengine's CPU over the window when all were up, and the window. */
  hold?: { calls: number; seconds: number; rtpengineMs: number };
  cpuMs: Cpu;
  failures: string;
}

const tmp = join(ROOT, '.tmp', 'bench-sip');
rmSync(tmp, { recursive: true, force: true });
const logs = ensureDir(join(tmp, 'logs'));
const stops: (() => Promise<void>)[] = [];
const once = (stop: () => Promise<void>) => {
  let done: Promise<void> | undefined;
  return () => (done ??= stop());
};
const running = new Set<ChildProcess>();
stops.push(
  once(async () => {
    await Promise.all([...running].map((child) => stopChild(child)));
  }),
);
stopOnSignal(stops);

const results: StepResult[] = [];
let idle: { seconds: number; cpuMs: Cpu } | undefined;
let blockCounter = 100;
const started = Date.now();
try {
  console.log(`bench:sip: REGISTER steps ${REGISTER_RATES.join(', ')}/s x ${REGISTER_SECONDS} s; call steps ${CALL_RATES.join(', ')}/s x ${CALL_SECONDS} s`);
  buildWeb();
  const postgres = await startPostgres(join(logs, 'postgres.log'));
  stops.push(once(() => postgres.stop()));
  const relay = await prepareDatabase(postgres);
  stops.push(once(() => relay.close()));
  const secret = randomBytes(24).toString('hex');
  const carrierPort = await freePort();
  const edge = await startDirectEdge({
    stateDir: ensureDir(join(tmp, 'edge')),
    logFile: join(logs, 'edge.log'),
    vars: {
      DATABASE_URL: postgres.url,
      NEON_WS_PROXY: relay.url,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      MEDIA_CONTROL_SECRET: secret,
      PSTN_TRUNKS: JSON.stringify([{ id: 'bench-carrier', host: CARRIER_HOST, port: carrierPort, addresses: [CARRIER_HOST], country: 'GB' }]),
    },
  });
  stops.push(once(() => edge.stop()));

  // Every registration in step 1 is of a user not seen before (see the top).
  const registerUsers = Array.from({ length: REGISTER_RATES.reduce((sum, rate) => sum + rate * REGISTER_SECONDS, 0) }, (_, i) => `bench-reg-${i}`);
  const callers = Array.from({ length: PAIRS }, (_, i) => `bench-caller-${i}`);
  const callees = Array.from({ length: PAIRS }, (_, i) => `bench-callee-${i}`);
  const extension = new Map<string, string>();
  await withClient({ databaseUrl: postgres.url, relayUrl: relay.url }, async (client) => {
    const tenantId = 'bench-tenant';
    await client.query(`insert into tenants (id, slug, name) values ($1, 'bench', 'Bench')`, [tenantId]);
    // Callers and callees first: their extensions (assigned by a trigger from 100) stay short.
    const ids = [...callers, ...callees, ...registerUsers];
    await client.query(
      `insert into users (id, tenant_id, email, display_name, role, password_hash)
       select id, $2, id || '@bench.test', id, 'user', 'none' from unnest($1::text[]) with ordinality as t(id, n) order by n`,
      [ids, tenantId],
    );
    // The SIP username is the user id; HA1 as the edge stores it.
    await client.query(
      `insert into sip_credentials (user_id, tenant_id, username, realm, ha1)
       select id, $2, id, $3, md5(id || ':' || $3 || ':' || $4) from unnest($1::text[]) as id`,
      [ids, tenantId, REALM, PASSWORD],
    );
    // Limits far above the load: the bench measures the path, not the guard's refusals.
    await client.query(
      `insert into pstn_policies (tenant_id, default_country, max_concurrent_calls, max_concurrent_calls_per_user, max_calls_per_second,
                                  max_calls_per_minute_per_user, max_call_duration_seconds)
       values ($1, 'GB', 10000, 100, 1000, 1000, 3600)`,
      [tenantId],
    );
    // No spend caps either: 180 held calls reserve more than the default daily cap.
    await client.query(`insert into tenant_billing (tenant_id, plan_id, daily_cap_micros, monthly_cap_micros) values ($1, 'standard', null, null)`, [tenantId]);
    const { rows } = await client.query<{ id: string; extension: string }>('select id, extension from users where id = any($1)', [[...callers, ...callees]]);
    for (const row of rows) extension.set(row.id, row.extension);
  });
  console.log(`${callers.length} callers, ${callees.length} callees (extensions ${extension.get(callees[0]!)}..), ${registerUsers.length} users to register`);

  // rtpengine needs 4 ports per call to the outside (RTP and RTCP, each side): room for the held calls.
  const sip = await startSipEdge({
    logsDir: logs,
    edgeUrl: edge.url,
    secret,
    realm: REALM,
    rtpPorts: { min: 46000, max: 55999 },
    trunkProbeSeconds: 0,
    voicemailDir: join(logs, 'voicemail'),
  });
  stops.push(once(() => sip.stop()));
  const alone = await startKamailioAlone(join(logs, 'kamailio-alone.log'));
  stops.push(once(() => alone.stop()));
  const full: Target = { host: sip.host, port: sip.port };
  console.log(`SIP edge on ${full.host}:${full.port} (realm ${REALM}), Kamailio alone on ${alone.host}:${alone.port}`);

  // The callees' phones: each registers its share of the callees from the address and port it then answers on.
  // Through the edge the AOR is the callee's SIP username (what the gateway calls); Kamailio alone knows no
  // extensions, so there the AOR is the extension the caller dials.
  const fullPhones = await startPhones('full', full, callees, (callee) => callee);
  const alonePhones = await startPhones('alone', alone, callees, (callee) => extension.get(callee)!);
  // The edge learns of a registration from the gateway after Kamailio's 200.
  await sleep(1_000);

  const rows = (count: number, block: number, rate: number) => {
    const addresses = Math.ceil(rate / CALLS_PER_ADDRESS);
    return Array.from({ length: count }, (_, i) => {
      const pair = i % PAIRS;
      return [callers[pair]!, PASSWORD, extension.get(callees[pair]!)!, address(block, i % addresses)];
    });
  };
  const callStep = (kind: 'full' | 'alone', rate: number, count: number) =>
    runCallStep(kind, kind === 'full' ? full : alone, kind === 'full' ? fullPhones : alonePhones, rate, count, rows);

  // A round each way first: a broken path fails here with its reason, and one-off work (the callers' hubs on the
  // edge, JIT) stays out of the steps.
  for (const kind of ['full', 'alone'] as const) {
    const warm = await callStep(kind, kind === 'full' ? 2 : 10, kind === 'full' ? 10 : 20);
    console.log(`warm-up ${kind}: ${warm.succeeded}/${warm.planned} calls${warm.failures ? `; ${warm.failures}` : ''}`);
    if (warm.succeeded === 0) throw new Error(`no call got through (${kind}): see ${logs}`);
  }
  const before = cpuSnapshot();
  await sleep(2_000);
  idle = { seconds: 2, cpuMs: diff(cpuSnapshot(), before) };

  console.log('\n── 2./3. calls: whole path (Kamailio + gateway + edge + rtpengine) and Kamailio alone, steps interleaved ──');
  const failedAt: Partial<Record<'full' | 'alone', number>> = {};
  for (const rate of CALL_RATES) {
    for (const kind of ['full', 'alone'] as const) {
      if (failedAt[kind] !== undefined) continue;
      const count = Math.max(MIN_CALLS, Math.round(rate * CALL_SECONDS));
      if (Date.now() + (count / rate) * 1000 + CALL_MS + DRAIN_MS + 1_000 > DEADLINE - 40_000) {
        console.log(`${kind} ${rate}/s skipped: time budget`);
        failedAt[kind] = NaN;
        continue;
      }
      const result = await callStep(kind, rate, count);
      results.push(result);
      console.log(describeStep(result));
      if (!clean(result)) failedAt[kind] = rate;
    }
    if (failedAt.full !== undefined && failedAt.alone !== undefined) break;
  }
  console.log('\n── 4./5. calls to the outside: phone -> edge decision -> gateway -> carrier trunk (SIPp, echoing RTP) ──');
  await startCarrier(carrierPort);
  const pstnRows = (count: number, block: number, rate: number) => {
    const addresses = Math.ceil(rate / CALLS_PER_ADDRESS);
    return Array.from({ length: count }, (_, i) => [callers[i % PAIRS]!, PASSWORD, DIALLED, address(block, i % addresses)]);
  };
  const warm = await runCallStep('pstn', full, null, 2, 10, pstnRows);
  console.log(`warm-up pstn: ${warm.succeeded}/${warm.planned} calls${warm.failures ? `; ${warm.failures}` : ''}`);
  for (const rate of PSTN_RATES) {
    const count = Math.max(MIN_CALLS, Math.round(rate * CALL_SECONDS));
    if (Date.now() + (count / rate) * 1000 + CALL_MS + DRAIN_MS > PSTN_DEADLINE) {
      console.log(`pstn ${rate}/s skipped: time budget`);
      break;
    }
    const result = await runCallStep('pstn', full, null, rate, count, pstnRows);
    results.push(result);
    console.log(describeStep(result));
    if (!clean(result)) break;
  }
  for (const calls of HOLD_CALLS) {
    if (Date.now() + (calls / HOLD_RATE + HOLD_SECONDS + 10) * 1000 > PSTN_DEADLINE) {
      console.log(`hold ${calls} skipped: time budget`);
      break;
    }
    const result = await runHoldStep(full, calls, pstnRows);
    results.push(result);
    console.log(describeStep(result));
    if (result.failed > 0 || result.succeeded < calls) break;
  }

  // Last: past its limit the REGISTER path stays backed up (retransmissions, the edge's queue) for a while.
  console.log('\n── 1. REGISTER rate (through the SIP edge: HA1 from the edge via the gateway) ──');
  let offset = 0;
  for (const rate of REGISTER_RATES) {
    const count = rate * REGISTER_SECONDS;
    if (Date.now() + REGISTER_SECONDS * 1000 + DRAIN_MS > REGISTER_DEADLINE) {
      console.log(`REGISTER ${rate}/s skipped: time budget`);
      break;
    }
    const users = registerUsers.slice(offset, offset + count);
    offset += count;
    const result = await runRegisterStep(full, rate, users);
    results.push(result);
    console.log(describeStep(result));
    if (!clean(result)) break;
  }
} catch (error) {
  // What was measured before the failure is still printed.
  console.error(`bench:sip stopped: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  for (const stop of [...stops].reverse()) await stop().catch(() => {});
}
report();
console.log(`\nrun took ${((Date.now() - started) / 1000).toFixed(0)} s; logs in ${logs}`);

// ─── SIPp ────────────────────────────────────────────────────────────────────────────────

interface Sipp {
  child: ChildProcess;
  exited: Promise<{ code: number; output: string }>;
}

function startSippProcess(args: string[], cwd: string): Sipp {
  const child = spawn(SIPP_BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const collect = (data: Buffer) => (output = (output + data.toString()).slice(-4_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number; output: string }>((resolve) => {
    child.once('error', (error) => (output += `\n${error.message}`));
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code: code ?? (signal ? 128 : -1), output });
    });
  });
  return { child, exited };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await gone;
  clearTimeout(timer);
}

/**
 * SIPp's arguments: the target, then options in order (true: a bare flag), then -key values for the scenario.
 * Every run gets its own media port (the default 6000 collides), bounded sockets (the default 50,000 is over the
 * open-file limit), statistics every second, and its errors logged, all in its working directory. No -cp: with
 * -t ui, SIPp 3.6 fails to bind any control port it is given (it probes from 8888 itself).
 */
async function sippArgs(target: Target | null, options: Record<string, string | number | true>, keys: Record<string, string | number> = {}): Promise<string[]> {
  const all: Record<string, string | number | true> = {
    ...options,
    '-mp': await freePort(),
    '-max_socket': 4000,
    '-nostdin': true,
    '-stf': 'stat.csv',
    '-trace_stat': true,
    '-fd': 1,
    '-trace_err': true,
    '-error_file': 'errors.log',
  };
  const args = target ? [`${target.host}:${target.port}`] : [];
  for (const [name, value] of Object.entries(all)) args.push(name, ...(value === true ? [] : [String(value)]));
  for (const [name, value] of Object.entries(keys)) args.push('-key', name, String(value));
  return args;
}

/**
 * Runs SIPp to its end. Its ports come from freePort, which checks TCP: one already taken for UDP (rtpengine,
 * another SIPp's media) makes SIPp exit at once, and the run is retried on fresh ports.
 */
async function runSippToEnd(makeArgs: (port: number) => Promise<string[]>, dir: string): Promise<{ code: number; output: string }> {
  for (let attempt = 1; ; attempt++) {
    const run = await startSippProcess(await makeArgs(await freePort()), dir).exited;
    if (attempt >= 3 || !/Address already in use/.test(run.output)) return run;
    rmSync(join(dir, 'stat.csv'), { force: true });
  }
}

function writeRows(dir: string, rows: string[][]): string {
  const file = join(dir, 'rows.csv');
  writeFileSync(file, ['SEQUENTIAL', ...rows.map((row) => row.join(';'))].join('\n') + '\n');
  return file;
}

/** A loopback source address of its own for each block (step) and index: 127.<block>.<hi>.<lo>. */
function address(block: number, index: number): string {
  return `127.${block}.${Math.floor(index / 250)}.${1 + (index % 250)}`;
}

function stepDir(block: number, name: string): string {
  const dir = join(tmp, 'steps', `${block}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** SIPp's last statistics row (-trace_stat), by column name. */
function readStats(file: string): Record<string, number> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const names = lines[0]!.split(';');
  // The newest complete row: a running SIPp may be halfway through writing the last one.
  const last = lines
    .slice(1)
    .map((line) => line.split(';'))
    .findLast((fields) => fields.length >= names.length);
  return last ? Object.fromEntries(names.map((name, i) => [name, Number(last[i])])) : {};
}

/** Every sample of the timer `rtd` in SIPp's -trace_rtt file(s) in `dir`: [ms since SIPp's start, response ms]. */
function readRtt(dir: string, rtd: string): [number, number][] {
  const samples: [number, number][] = [];
  for (const name of readdirSync(dir).filter((file) => file.endsWith('_rtt.csv'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n').slice(1)) {
      const [at, ms, which] = line.split(';');
      if (which?.trim() === rtd) samples.push([Number(at), Number(ms)]);
    }
  }
  return samples.sort((a, b) => a[0] - b[0]);
}

/** What failed calls got instead (SIPp's error log): "expected 180, got 486 x3; timeout x2". */
function summarizeErrors(dir: string, stats: Record<string, number>): string {
  const counts = new Map<string, number>();
  const file = join(dir, 'errors.log');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/while expecting '([^']*)'[^\n]*?received '(?:SIP\/2\.0 )?(\S+)/g)) {
      const key = `expected ${match[1]}, got ${match[2]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  for (const [column, label] of [
    ['FailedTimeoutOnRecv(C)', 'receive timeout'],
    ['FailedMaxUDPRetrans(C)', 'retransmissions exhausted'],
    ['FailedCallRejected(C)', 'rejected'],
    ['FailedCannotSendMessage(C)', 'cannot send'],
    ['FailedOutboundCongestion(C)', 'congestion'],
  ] as const) {
    if (stats[column]) counts.set(label, stats[column]);
  }
  return [...counts].map(([what, n]) => `${what} x${n}`).join('; ');
}

// ─── steps ───────────────────────────────────────────────────────────────────────────────

async function runRegisterStep(target: Target, rate: number, users: string[]): Promise<StepResult> {
  const block = blockCounter++;
  const dir = stepDir(block, `register-${rate}`);
  const addresses = Math.ceil(rate / REGISTERS_PER_ADDRESS);
  writeRows(
    dir,
    users.map((user, i) => [user, PASSWORD, address(block, i % addresses)]),
  );
  const makeArgs = async (port: number) =>
    sippArgs(
      target,
      {
        '-sf': join(SCENARIOS, 'register.xml'),
        '-t': 'ui',
        '-ip_field': 2,
        '-inf': 'rows.csv',
        '-p': port,
        '-m': users.length,
        '-r': rate,
        '-l': users.length,
        '-recv_timeout': 5_000,
        '-timeout': REGISTER_SECONDS + 20,
        // Every sample written at once: SIPp drops the ones not yet dumped when it exits.
        '-trace_rtt': true,
        '-rtt_freq': 1,
      },
      // Registrations last the whole run: none expires (and is reported to the gateway) during later steps.
      { lport: port, domain: REALM, expires: 3600 },
    );
  const logMark = kamailioLogSize();
  const before = cpuSnapshot();
  const run = await runSippToEnd(makeArgs, dir);
  await sleep(500);
  const cpuMs = diff(cpuSnapshot(), before);
  return stepResult('register', rate, users.length, dir, 'register', addresses, run, cpuMs, logMark);
}

async function runCallStep(
  kind: 'full' | 'alone' | 'pstn',
  target: Target,
  /** The callee phones (none for calls to the outside: the carrier answers). */
  phones: Phones | null,
  rate: number,
  count: number,
  rows: (count: number, block: number, rate: number) => string[][],
): Promise<StepResult> {
  const block = blockCounter++;
  const dir = stepDir(block, `${kind}-${rate}`);
  writeRows(dir, rows(count, block, rate));
  const makeArgs = async (port: number) =>
    sippArgs(
      target,
      {
        '-sf': join(SCENARIOS, 'uac.xml'),
        '-t': 'ui',
        '-ip_field': 3,
        '-inf': 'rows.csv',
        '-p': port,
        '-d': CALL_MS,
        '-m': count,
        '-r': rate,
        // Through the edge never more calls at once than pairs (a pair's second call would only find its users busy);
        // Kamailio alone knows no busy.
        '-l': kind === 'full' ? PAIRS : count,
        '-recv_timeout': 5_000,
        '-timeout': Math.ceil(count / rate) + 25,
        '-trace_rtt': true,
        '-rtt_freq': 1,
      },
      { lport: port, domain: REALM },
    );
  const logMark = kamailioLogSize();
  const answeredBefore = phones?.completed() ?? 0;
  const before = cpuSnapshot();
  const run = await runSippToEnd(makeArgs, dir);
  await sleep(DRAIN_MS);
  const cpuMs = diff(cpuSnapshot(), before);
  const result = stepResult(kind, rate, count, dir, 'pdd', Math.ceil(rate / CALLS_PER_ADDRESS), run, cpuMs, logMark);
  if (phones) result.answered = phones.completed() - answeredBefore;
  return result;
}

/**
 * `calls` calls to the outside at once, ramped up at HOLD_RATE, each caller streaming PCMU (50
 * packets/s) that the carrier echoes: once all are up (and a second more), rtpengine's CPU over
 * HOLD_SECONDS. The scenario is uac.xml with the stream started after the ACK.
 */
async function runHoldStep(target: Target, calls: number, rows: (count: number, block: number, rate: number) => string[][]): Promise<StepResult> {
  const block = blockCounter++;
  const dir = stepDir(block, `hold-${calls}`);
  writeRows(dir, rows(calls, block, HOLD_RATE));
  writeFileSync(
    join(dir, 'uac-media.xml'),
    readFileSync(join(SCENARIOS, 'uac.xml'), 'utf8').replace('<pause />', '<nop><action><exec rtp_stream="tone.ulaw,-1,0" /></action></nop>\n  <pause />'),
  );
  // 10 s of a 440 Hz tone in G.711 µ-law, looped: SIPp sends it in 20 ms packets.
  const tone = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=10',
    '-ar',
    '8000',
    '-ac',
    '1',
    '-f',
    'mulaw',
    join(dir, 'tone.ulaw'),
  ]);
  if (tone.status !== 0) throw new Error(`ffmpeg could not make the tone: ${tone.stderr.toString()}`);
  const rampMs = (calls / HOLD_RATE) * 1000 + 1_000;
  const callMs = rampMs + HOLD_SECONDS * 1000 + 1_000;
  const port = await freePort();
  const args = await sippArgs(
    target,
    {
      '-sf': 'uac-media.xml',
      '-t': 'ui',
      '-ip_field': 3,
      '-inf': 'rows.csv',
      '-p': port,
      '-d': Math.round(callMs),
      '-m': calls,
      '-r': HOLD_RATE,
      '-l': calls,
      '-recv_timeout': 10_000,
      '-timeout': Math.ceil(callMs / 1000) + 30,
      '-trace_rtt': true,
      '-rtt_freq': 1,
    },
    { lport: port, domain: REALM },
  );
  const logMark = kamailioLogSize();
  const before = cpuSnapshot();
  const sipp = startSippProcess(args, dir);
  await sleep(rampMs);
  const windowStart = cpuSnapshot();
  await sleep(HOLD_SECONDS * 1000);
  const windowCpu = diff(cpuSnapshot(), windowStart);
  const run = await sipp.exited;
  await sleep(DRAIN_MS);
  const result = stepResult('hold', HOLD_RATE, calls, dir, 'pdd', Math.ceil(HOLD_RATE / CALLS_PER_ADDRESS), run, diff(cpuSnapshot(), before), logMark);
  result.hold = { calls, seconds: HOLD_SECONDS, rtpengineMs: windowCpu.get('rtpengine') ?? 0 };
  return result;
}

/** The carrier trunk: SIPp answering every INVITE on the trunk's address (180, 200 with PCMU), echoing the RTP it receives. */
async function startCarrier(port: number): Promise<void> {
  const dir = ensureDir(join(tmp, 'carrier'));
  startSippProcess(
    await sippArgs(null, {
      '-sf': join(SCENARIOS, 'uas.xml'),
      '-t': 'u1',
      '-i': CARRIER_HOST,
      '-bind_local': true,
      '-p': port,
      '-cp': await freePort(),
      '-recv_timeout': 120_000,
      '-rtp_echo': true,
    }),
    dir,
  );
}

function stepResult(
  kind: StepResult['kind'],
  rate: number,
  planned: number,
  dir: string,
  rtd: string,
  addresses: number,
  run: { code: number; output: string },
  cpuMs: Cpu,
  logMark: number,
): StepResult {
  const stats = readStats(join(dir, 'stat.csv'));
  if (run.code > 1 || stats['TotalCallCreated'] === undefined) throw new Error(`SIPp could not run (exit ${run.code}) in ${dir}:\n${run.output}`);
  const samples = readRtt(dir, rtd);
  const span = samples.length > 1 ? (samples.at(-1)![0] - samples[0]![0]) / 1000 : NaN;
  return {
    kind,
    rate,
    planned,
    attempted: stats['TotalCallCreated'] ?? 0,
    succeeded: stats['SuccessfulCall(C)'] ?? 0,
    failed: stats['FailedCall(C)'] ?? 0,
    retransmissions: stats['Retransmissions(C)'] ?? 0,
    achieved: (samples.length - 1) / span,
    times: samples.map(([, ms]) => ms).sort((a, b) => a - b),
    addresses,
    bans: countBans(logMark),
    cpuMs,
    failures: summarizeErrors(dir, stats),
  };
}

interface Phones {
  /** Calls the phones completed so far, from their statistics files. */
  completed(): number;
}

/** PHONES SIPp UASs for one path, each registering its share of `callees` (as `aor(callee)`) first, from its own address and port. */
async function startPhones(kind: 'full' | 'alone', target: Target, callees: string[], aor: (callee: string) => string): Promise<Phones> {
  const block = blockCounter++;
  const start = async (phone: number) => {
    const dir = stepDir(block, `${kind}-phone-${phone}`);
    const ip = address(block, phone);
    const port = await freePort();
    const mine = callees.filter((_, i) => i % PHONES === phone);
    writeRows(
      dir,
      mine.map((callee) => [aor(callee), PASSWORD, ip]),
    );
    const registration = await startSippProcess(
      await sippArgs(
        target,
        {
          '-sf': join(SCENARIOS, 'register.xml'),
          '-t': 'ui',
          '-ip_field': 2,
          '-inf': 'rows.csv',
          '-p': port,
          '-m': mine.length,
          // One address per phone: well under pike's 30 requests per 2 s, retransmissions included.
          '-r': 2,
          '-recv_timeout': 5_000,
          '-timeout': 30,
        },
        { lport: port, domain: REALM, expires: 3600 },
      ),
      dir,
    ).exited;
    const stats = readStats(join(dir, 'stat.csv'));
    if (stats['SuccessfulCall(C)'] !== mine.length) {
      throw new Error(`${kind} phone ${ip}: ${stats['SuccessfulCall(C)'] ?? 0}/${mine.length} callees registered (exit ${registration.code}); see ${dir}`);
    }
    const uasDir = ensureDir(join(dir, 'uas'));
    startSippProcess(
      // A call whose ACK or BYE never comes fails instead of waiting forever.
      await sippArgs(null, {
        '-sf': join(SCENARIOS, 'uas.xml'),
        '-t': 'u1',
        '-i': ip,
        '-bind_local': true,
        '-p': port,
        '-cp': await freePort(),
        '-recv_timeout': 15_000,
      }),
      uasDir,
    );
    return uasDir;
  };
  // Kamailio's 4 workers wait on the gateway's HTTP API (HA1, then the registration report, each a call to the
  // edge of 200-800 ms under wrangler dev here) for every REGISTER: a few registrations/s already queue past
  // SIPp's 500 ms retransmission, every copy is processed again (REGISTER has no transaction), and pike bans the
  // phone. So through the edge the phones register one at a time (2 registrations/s).
  const wave = kind === 'full' ? 1 : PHONES;
  const dirs: string[] = [];
  for (let first = 0; first < PHONES; first += wave) {
    dirs.push(...(await Promise.all(Array.from({ length: Math.min(wave, PHONES - first) }, (_, i) => start(first + i)))));
  }
  await sleep(1_100);
  return {
    completed: () => dirs.reduce((sum, dir) => sum + (readStats(join(dir, 'stat.csv'))['SuccessfulCall(C)'] ?? 0), 0),
  };
}

// ─── Kamailio alone ──────────────────────────────────────────────────────────────────────

async function startKamailioAlone(logFile: string): Promise<Target & { stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-bench-kamailio-'));
  const host = '127.0.0.1';
  const port = await freePort();
  const substitute = (name: string, value: string | number) => `#!substdef "!${name}!${value}!g"`;
  writeFileSync(
    join(dir, 'bench-local.cfg'),
    [substitute('BENCH_SIP_UDP', `udp:${host}:${port}`), substitute('BENCH_REALM', REALM), substitute('BENCH_PASSWORD', PASSWORD)].join('\n') + '\n',
  );
  const service = new Service({
    name: 'kamailio-alone',
    command: KAMAILIO_BIN,
    // The SIP edge's Kamailio runs with the same memory (scripts/lib/kamailio.ts).
    args: ['-f', join(SCENARIOS, 'kamailio-alone.cfg'), '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-m', '64', '-M', '8'],
    cwd: dir,
    logFile,
    readyPattern: /bench kamailio ready/,
    readyTimeoutMs: 15_000,
  });
  const stop = await startInDir(service, dir);
  return { host, port, stop };
}

// ─── bans in the SIP edge's Kamailio log ─────────────────────────────────────────────────

function kamailioLogSize(): number {
  const file = join(logs, 'kamailio.log');
  return existsSync(file) ? statSync(file).size : 0;
}

/** Sources the SIP edge's Kamailio banned since `mark` (flood or failed digests). */
function countBans(mark: number): number {
  const file = join(logs, 'kamailio.log');
  if (!existsSync(file)) return 0;
  const size = statSync(file).size;
  if (size <= mark) return 0;
  const buffer = Buffer.alloc(size - mark);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, mark);
  } finally {
    closeSync(fd);
  }
  return (buffer.toString('utf8').match(/flood from|banned for/g) ?? []).length;
}

// ─── CPU of process groups from /proc ────────────────────────────────────────────────────

interface Proc {
  ppid: number;
  ticks: number;
  comm: string;
}

function readProcs(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm is parenthesised and may hold spaces: fields after it start at state (field 3).
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
      procs.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), comm });
    } catch {
      // exited meanwhile
    }
  }
  return procs;
}

/** Which service a direct child of this process is, from its command line. */
function classify(pid: number, proc: Proc): Group | null {
  if (proc.comm === 'sipp') return 'sipp';
  let command = '';
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
  if (command.includes('kamailio-alone.cfg')) return 'kamailio-alone';
  if (command.includes('kamailio')) return 'kamailio';
  if (command.includes('drachtio')) return 'drachtio';
  if (command.includes('sip-edge/src/main.ts')) return 'gateway';
  if (command.includes('rtpengine')) return 'rtpengine';
  if (command.includes('workerd')) return 'edge';
  if (command.includes('postgres')) return 'postgres';
  return null;
}

/** CPU ms so far of each group: every process below each of this process's children (kamailio's workers...). */
function cpuSnapshot(): Cpu {
  const procs = readProcs();
  const children = new Map<number, number[]>();
  for (const [pid, proc] of procs) children.set(proc.ppid, [...(children.get(proc.ppid) ?? []), pid]);
  const cpu: Cpu = new Map(GROUPS.map((group) => [group, 0]));
  const usage = process.cpuUsage();
  // This process: the driver and the Neon relay between workerd and PostgreSQL.
  cpu.set('bench', (usage.user + usage.system) / 1000);
  for (const pid of children.get(process.pid) ?? []) {
    const group = classify(pid, procs.get(pid)!);
    if (!group) continue;
    let ticks = 0;
    const stack = [pid];
    while (stack.length) {
      const next = stack.pop()!;
      ticks += procs.get(next)?.ticks ?? 0;
      stack.push(...(children.get(next) ?? []));
    }
    cpu.set(group, cpu.get(group)! + (ticks * 1000) / CLK_TCK);
  }
  return cpu;
}

function diff(after: Cpu, before: Cpu): Cpu {
  return new Map(GROUPS.map((group) => [group, (after.get(group) ?? 0) - (before.get(group) ?? 0)]));
}

// ─── output ──────────────────────────────────────────────────────────────────────────────

// Declarations, not consts: the main flow above runs before this part of the module would initialise them.
function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}
function pct(result: StepResult, p: number): number {
  return percentile(result.times, p);
}

/** Groups that take part in a step: the SIP edge's for registrations and full calls, Kamailio alone's for the baseline. */
function groupsOf(kind: StepResult['kind']): Group[] {
  return kind === 'alone' ? ['kamailio-alone', 'bench', 'sipp'] : ['kamailio', 'drachtio', 'gateway', 'rtpengine', 'edge', 'postgres', 'bench', 'sipp'];
}

function perUnit(result: StepResult): string {
  return groupsOf(result.kind)
    .map((group) => `${group} ${fixed((result.cpuMs.get(group) ?? 0) / result.succeeded, 2)}`)
    .join(', ');
}

function describeStep(result: StepResult): string {
  const unit = result.kind === 'register' ? 'registrations' : 'calls';
  const label = {
    register: 'REGISTER',
    full: 'full path',
    alone: 'Kamailio alone',
    pstn: 'to the outside',
    hold: `held with media, ${result.planned} at once`,
  }[result.kind];
  const timer = result.kind === 'register' ? 'REGISTER->200' : 'PDD';
  return [
    `${label} ${result.rate}/s: ${result.attempted}/${result.planned} ${unit} attempted, ${result.succeeded} ok, ${result.failed} failed` +
      `${result.answered !== undefined ? ` (callee phones completed ${result.answered})` : ''}, achieved ${fixed(result.achieved)}/s, ` +
      `${timer} p50 ${fixed(pct(result, 50))} ms p99 ${fixed(pct(result, 99))} ms, ${result.retransmissions} retransmissions, ` +
      `from ${result.addresses} addresses, ${result.bans} bans`,
    `    CPU ms per ${unit === 'calls' ? 'call' : 'registration'}: ${perUnit(result)}`,
    ...(result.hold ? [`    ${describeHold(result.hold)}`] : []),
    ...(result.failures ? [`    failures: ${result.failures}`] : []),
  ].join('\n');
}

/** rtpengine while every call was up: its share of a core, and per concurrent call. */
function describeHold({ calls, seconds, rtpengineMs }: NonNullable<StepResult['hold']>): string {
  const perSecond = rtpengineMs / seconds;
  return `rtpengine over ${seconds} s with all ${calls} up (100 packets/s forwarded per call): ${fixed(perSecond / 10)}% of a core, ${fixed((perSecond * 1000) / calls, 0)} µs CPU per second per call`;
}

function clean(result: StepResult): boolean {
  // A step counts only when every planned call completed and the path kept up: answers (180, 200) came at 90% of the rate or more.
  return result.failed === 0 && result.succeeded === result.planned && result.achieved >= 0.9 * result.rate;
}

function best(kind: StepResult['kind']): { result?: StepResult; topped: boolean } {
  const steps = results.filter((result) => result.kind === kind);
  const good = steps.filter(clean);
  return { result: good.at(-1), topped: steps.length > 0 && steps.every(clean) };
}

function report(): void {
  if (!results.length) return;
  console.log('\n══ results ══');
  if (idle) {
    console.log(
      `idle CPU ms per second (before the steps): ${GROUPS.map((group) => `${group} ${fixed((idle!.cpuMs.get(group) ?? 0) / idle!.seconds)}`).join(', ')}`,
    );
  }
  const cpuColumns: Group[] = ['kamailio', 'drachtio', 'gateway', 'rtpengine', 'edge', 'postgres', 'kamailio-alone', 'bench', 'sipp'];
  const header = [
    'step'.padEnd(16),
    'rate'.padStart(5),
    'tried'.padStart(6),
    'ok'.padStart(6),
    'fail'.padStart(5),
    'ach/s'.padStart(7),
    'p50ms'.padStart(7),
    'p99ms'.padStart(7),
    'bans'.padStart(5),
    ...cpuColumns.map((group) => group.replace('kamailio-alone', 'kam-alone').padStart(10)),
  ].join(' ');
  console.log(`\n${header}\n${'(CPU columns: ms per registration or call; p50/p99: REGISTER->200 or post-dial delay INVITE->180)'}`);
  for (const result of results) {
    const used = groupsOf(result.kind);
    console.log(
      [
        { register: 'REGISTER', full: 'call full path', alone: 'call Kam. alone', pstn: 'call outside', hold: `held ${result.planned}` }[result.kind].padEnd(
          16,
        ),
        String(result.rate).padStart(5),
        String(result.attempted).padStart(6),
        String(result.succeeded).padStart(6),
        String(result.failed).padStart(5),
        fixed(result.achieved).padStart(7),
        fixed(pct(result, 50)).padStart(7),
        fixed(pct(result, 99)).padStart(7),
        String(result.bans).padStart(5),
        ...cpuColumns.map((group) => (used.includes(group) ? fixed((result.cpuMs.get(group) ?? 0) / result.succeeded, 2) : '').padStart(10)),
      ].join(' '),
    );
  }

  console.log('');
  const summary = (kind: StepResult['kind'], what: string) => {
    const { result, topped } = best(kind);
    if (!result) return console.log(`${what}: no step without failures`);
    const unit = kind === 'register' ? 'registrations/s' : 'calls/s';
    const edgeCpu = (result.cpuMs.get('edge') ?? 0) / result.succeeded;
    reportFigures([
      {
        bench: 'sip',
        name: `${what}: rate at 0 failures`,
        value: result.rate,
        unit: topped ? '/s (no step failed)' : '/s',
        conditions: `steps ${results
          .filter((step) => step.kind === kind)
          .map((step) => step.rate)
          .join(',')}`,
      },
      {
        bench: 'sip',
        name: `${what}: ${kind === 'register' ? 'REGISTER->200' : 'post-dial delay'} p99`,
        value: pct(result, 99),
        unit: 'ms',
        conditions: `at ${result.rate}/s`,
      },
      ...(kind === 'alone'
        ? []
        : [
            {
              bench: 'sip',
              name: `${what}: edge CPU per ${kind === 'register' ? 'registration' : 'call'}`,
              value: edgeCpu,
              unit: 'ms',
              conditions: 'workerd directly',
            },
          ]),
    ]);
    console.log(
      `${what}: ${topped ? '>= ' : ''}${result.rate} ${unit} at 0 failures (achieved ${fixed(result.achieved)}/s${topped ? ', no step failed' : ''}); ` +
        `${kind === 'register' ? 'REGISTER->200' : 'post-dial delay'} p50 ${fixed(pct(result, 50))} ms, p99 ${fixed(pct(result, 99))} ms; ` +
        `CPU ms per ${kind === 'register' ? 'registration' : 'call'}: ${perUnit(result)}`,
    );
  };
  summary('register', 'REGISTER (digest, HA1 from the edge, each from a new user)');
  summary('full', 'calls through Kamailio + gateway + edge + rtpengine');
  summary('alone', 'calls through Kamailio alone');
  summary('pstn', 'calls to the outside (edge decision + gateway + carrier trunk + rtpengine)');
  const held = results.filter((result) => result.kind === 'hold' && result.hold);
  const most = held.filter((result) => result.failed === 0 && result.succeeded === result.planned).at(-1);
  if (most) {
    reportFigures([
      {
        bench: 'sip',
        name: 'calls to the outside held with media, no failure',
        value: most.planned,
        unit: '',
        target: { value: 1000, better: 'higher' },
        conditions: '50 packets/s each way',
      },
      {
        bench: 'sip',
        name: 'rtpengine CPU per held call',
        value: ((most.hold!.rtpengineMs / most.hold!.seconds) * 1000) / most.hold!.calls,
        unit: 'µs/s',
        conditions: `${most.planned} calls`,
      },
    ]);
  }
  console.log(
    most
      ? `held with media: ${most.planned} calls at once without a failure${held.at(-1) === most ? '' : ` (the next step failed: ${held.at(-1)!.failures || 'calls lost'})`}; ${describeHold(most.hold!)}`
      : 'held with media: no step without failures',
  );
  const full = best('full');
  const alone = best('alone');
  if (full.result && alone.result) {
    // A path that never failed has only a lower bound for its rate.
    const bound = alone.topped && full.topped ? 'undetermined (neither failed): ' : alone.topped ? 'at least ' : full.topped ? 'at most ' : '';
    console.log(
      `ratio: Kamailio alone / full path = ${bound}${fixed(alone.result.rate / full.result.rate)} (${alone.result.rate} / ${full.result.rate} calls/s at 0 failures)`,
    );
  }
  {
    console.log(
      `load spread: every step from fresh loopback addresses (SIPp -t ui), at most ${REGISTERS_PER_ADDRESS} registrations/s or ${CALLS_PER_ADDRESS} call/s per address, ` +
        `${results.reduce((sum, result) => sum + result.bans, 0)} sources banned by pike or failed digests in all`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
