/**
 * `npm run bench:signaling`: call setups through the real edge (wrangler dev / workerd, PostgreSQL
 * behind the relay) between many connected WebSocket clients, at a fixed rate.
 *
 * A setup is invite → ringing → accept → accepted → SDP offer → SDP answer at the caller; its
 * latency is from sending the invite to receiving the answer. Each call is then hung up (which
 * writes its CDR). Prints connection accept rate, setups/s achieved, latency p50/p95/p99.
 *
 *   npm run bench:signaling -- --users 1000 --rate 25 --seconds 20
 */
import { parseArgs } from 'node:util';
import { SignalingClient } from '../lib/SignalingClient.ts';
import { connectAll, percentile, withBenchStack } from './stack.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '25' },
    seconds: { type: 'string', default: '20' },
  },
});
const USERS = Number(values.users);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CONNECT_CONCURRENCY = 50;
const STEP_TIMEOUT_MS = 15_000;

console.log(`bench:signaling: ${USERS} clients, ${RATE} setups/s for ${SECONDS} s`);
await withBenchStack('bench-signaling', { users: USERS, vars: { RING_TIMEOUT_SECONDS: '30' } }, async (stack, onStop) => {
  const connected = await connectAll(USERS, CONNECT_CONCURRENCY, async (index) => SignalingClient.connect(stack.url, await stack.token(stack.userIds[index]!)));
  const clients = connected.clients;
  onStop(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
  });
  console.log(`connected ${USERS} clients in ${connected.seconds.toFixed(1)} s (${connected.perSecond.toFixed(0)} connections/s)`);

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
  const total = RATE * SECONDS;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const pair = pairs.find((candidate) => !candidate.busy);
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
          if (failures <= 5) console.error(`setup failed: ${error.message}`);
        })
        .finally(() => {
          pair.busy = false;
        }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  console.log(`\nresults (${USERS} connected clients, target ${RATE} setups/s)`);
  console.log(`  setups completed   ${latencies.length} in ${elapsed.toFixed(1)} s = ${(latencies.length / elapsed).toFixed(1)} setups/s`);
  console.log(`  failed / skipped   ${failures} / ${skipped} (skipped: no idle pair)`);
  console.log(
    `  setup latency ms   p50 ${pct(50).toFixed(1)}  p95 ${pct(95).toFixed(1)}  p99 ${pct(99).toFixed(1)}  max ${(latencies.at(-1) ?? NaN).toFixed(1)}`,
  );
  console.log(`  connections/s      ${connected.perSecond.toFixed(0)}`);
});

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
