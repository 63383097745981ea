/**
 * `npm run bench:signaling`: call setups through the real edge (workerd directly, PostgreSQL
 * behind the relay) between many connected WebSocket clients, at a fixed rate.
 *
 * A setup is invite → ringing → accept → accepted → SDP offer → SDP answer at the caller; its
 * latency is from sending the invite to receiving the answer. Each call is then hung up (which
 * writes its CDR). Prints connection accept rate, setups/s achieved, latency p50/p95/p99, and per
 * connection and per call: the edge's CPU, its invocations and the Postgres round trips.
 * `--profile <prefix>` also records CPU profiles of the edge: `<prefix>-connect.cpuprofile` while
 * the clients connect, `<prefix>-calls.cpuprofile` during the calls.
 *
 *   npm run bench:signaling -- --users 1000 --rate 300 --seconds 20
 */
import { parseArgs } from 'node:util';
import { SignalingClient } from '../lib/SignalingClient.ts';
import { startProfiler } from './profile.ts';
import { report } from './report.ts';
import { connectAll, percentile, printPerOperation, usageBetween, withBenchStack, type BenchStack, type Usage } from './stack.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '20' },
    profile: { type: 'string' },
  },
});
const USERS = Number(values.users);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CONNECT_CONCURRENCY = 50;
const STEP_TIMEOUT_MS = 15_000;
const SIGN_INS = 20;

console.log(`bench:signaling: ${USERS} clients, ${RATE} setups/s for ${SECONDS} s`);
await withBenchStack('bench-signaling', { users: USERS, vars: { RING_TIMEOUT_SECONDS: '30' }, inspector: Boolean(values.profile) }, async (stack, onStop) => {
  const connectProfiler = values.profile ? await startProfiler(stack.edge.inspectorPort!) : undefined;
  const beforeConnects = await stack.usage();
  const connected = await connectAll(USERS, CONNECT_CONCURRENCY, async (index) => SignalingClient.connect(stack.url, await stack.token(stack.userIds[index]!)));
  const clients = connected.clients;
  onStop(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
  });
  console.log(`connected ${USERS} clients in ${connected.seconds.toFixed(1)} s (${connected.perSecond.toFixed(0)} connections/s)`);
  const connectUsage = usageBetween(beforeConnects, await stack.usage());
  const connectTop = await connectProfiler?.stop(`${values.profile}-connect.cpuprofile`);
  const profiler = values.profile ? await startProfiler(stack.edge.inspectorPort!) : undefined;
  const beforeCalls = await stack.usage();

  // Pairs (caller, callee); a pair is busy while its call is being set up or torn down.
  const pairs = Array.from({ length: Math.floor(USERS / 2) }, (_, i) => ({
    caller: clients[2 * i]!,
    callee: clients[2 * i + 1]!,
    calleeId: stack.userIds[2 * i + 1]!,
    busy: false,
  }));
  const latencies: number[] = [];
  let failures = 0;
  let skipped = 0;
  const inFlight: Promise<void>[] = [];
  let nextPair = 0;
  const idlePairIndex = () => {
    for (let offset = 0; offset < pairs.length; offset++) {
      const index = (nextPair + offset) % pairs.length;
      if (!pairs[index]!.busy) {
        nextPair = index + 1;
        return index;
      }
    }
    return -1;
  };
  const total = RATE * SECONDS;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // In rotation, so each client's load stays what a person's is (the hub limits each socket's rate).
    const pair = pairs[idlePairIndex()];
    if (!pair) {
      skipped++;
      continue;
    }
    pair.busy = true;
    inFlight.push(
      setUpCall(pair)
        .then((ms) => void latencies.push(ms))
        .catch((error: Error) => {
          failures++;
          if (failures > 5) return;
          // What the edge refused, if it did: the clients ignore errors on the way.
          const refusals = [pair.caller, pair.callee].flatMap((client) => client.received.filter((message) => message.type === 'error'));
          console.error(`setup failed: ${error.message.slice(0, 160)}…; errors received: ${JSON.stringify(refusals.slice(-3))}`);
        })
        .finally(() => {
          pair.busy = false;
        }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  // CDRs are written after the hang-up is answered: let them land before reading the counters.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const callUsage = usageBetween(beforeCalls, await stack.usage());

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  console.log(`\nresults (${USERS} connected clients, target ${RATE} setups/s)`);
  console.log(`  setups completed   ${latencies.length} in ${elapsed.toFixed(1)} s = ${(latencies.length / elapsed).toFixed(1)} setups/s`);
  console.log(`  failed / skipped   ${failures} / ${skipped} (skipped: no idle pair)`);
  console.log(
    `  setup latency ms   p50 ${pct(50).toFixed(1)}  p95 ${pct(95).toFixed(1)}  p99 ${pct(99).toFixed(1)}  max ${(latencies.at(-1) ?? NaN).toFixed(1)}`,
  );
  console.log(`  connections/s      ${connected.perSecond.toFixed(0)}`);
  const perConnection = printPerOperation('connection (ticket, upgrade, hello)', USERS, connectUsage);
  const signInUsage = await measureSignIns(stack);
  const perCall = printPerOperation('call (setup, hang-up, CDR)', Math.max(1, latencies.length), callUsage);
  const perSignIn = printPerOperation('sign-in (password check: PBKDF2 by design)', SIGN_INS, signInUsage);
  const showProfile = (what: string, file: string, top: Awaited<ReturnType<NonNullable<typeof profiler>['stop']>>) => {
    console.log(`  CPU profile of ${what}: ${file}; most self time:`);
    for (const { name, ms, share } of top) console.log(`    ${(share * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  };
  if (connectTop) showProfile('the connections', `${values.profile}-connect.cpuprofile`, connectTop);
  if (profiler) showProfile('the calls', `${values.profile}-calls.cpuprofile`, await profiler.stop(`${values.profile}-calls.cpuprofile`));
  const conditions = `${USERS} clients, ${RATE} setups/s asked`;
  report([
    { bench: 'signaling', name: 'call setups/s', value: latencies.length / elapsed, unit: '/s', target: { value: 300, better: 'higher' }, conditions },
    { bench: 'signaling', name: 'setup latency p99', value: pct(99), unit: 'ms', target: { value: 100, better: 'lower' }, conditions },
    // Over capacity, steps time out (15 s) or no pair is idle: a figure, not a crash.
    { bench: 'signaling', name: 'setups failed or skipped', value: failures + skipped, unit: '', target: { value: 0, better: 'lower' }, conditions },
    { bench: 'signaling', name: 'edge CPU per call', value: perCall.cpuMs, unit: 'ms', target: { value: 2, better: 'lower' }, conditions },
    { bench: 'signaling', name: 'edge invocations per call', value: perCall.invocations, unit: '', conditions },
    { bench: 'signaling', name: 'Postgres round trips per call', value: perCall.dbRoundTrips, unit: '', conditions },
    { bench: 'signaling', name: 'WebSocket connections/s', value: connected.perSecond, unit: '/s', target: { value: 500, better: 'higher' }, conditions },
    { bench: 'signaling', name: 'edge CPU per connection', value: perConnection.cpuMs, unit: 'ms', conditions },
    { bench: 'signaling', name: 'Postgres round trips per sign-in', value: perSignIn.dbRoundTrips, unit: '', conditions: `${SIGN_INS} sign-ins` },
  ]);
});

/** Sign-ins one after another, after the calls (so their CPU is not in the calls' figures). */
async function measureSignIns(stack: BenchStack): Promise<Usage> {
  const before = await stack.usage();
  for (let i = 0; i < SIGN_INS; i++) {
    const response = await fetch(`${stack.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: stack.signInUser.email, password: stack.signInUser.password }),
    });
    if (response.status !== 200) throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
  }
  return usageBetween(before, await stack.usage());
}

async function setUpCall(pair: { caller: SignalingClient; callee: SignalingClient; calleeId: string }): Promise<number> {
  const callId = crypto.randomUUID();
  const isThisCall = (message: { callId: string }) => message.callId === callId;
  // Each client keeps what it received, so awaiting a step after sending cannot miss its message.
  const start = performance.now();
  pair.caller.send({ type: 'call.invite', callId, to: pair.calleeId, media: { audio: true, video: false } });
  await pair.callee.next('call.incoming', isThisCall, STEP_TIMEOUT_MS);
  pair.callee.send({ type: 'call.accept', callId });
  await pair.caller.next('call.accepted', isThisCall, STEP_TIMEOUT_MS);
  pair.caller.send({ type: 'call.offer', callId, sdp: 'v=0 bench offer' });
  await pair.callee.next('call.offer', isThisCall, STEP_TIMEOUT_MS);
  pair.callee.send({ type: 'call.answer', callId, sdp: 'v=0 bench answer' });
  await pair.caller.next('call.answer', isThisCall, STEP_TIMEOUT_MS);
  const latency = performance.now() - start;
  pair.caller.send({ type: 'call.hangup', callId });
  await pair.callee.next('call.ended', isThisCall, STEP_TIMEOUT_MS);
  return latency;
}
