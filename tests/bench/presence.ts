/**
 * `npm run bench:presence`: presence fan-out through the real edge (wrangler dev / workerd).
 *
 * One tenant of N users, each with a signaling socket (the user's device) and a presence socket
 * (watching the whole tenant). Measures the accept rate of both kinds of connection, then:
 *   - single changes, one after another: from sending `presence.set` until every watcher has the
 *     new status (per-watcher delay p50/p99/max across watchers and changes);
 *   - a burst of B users changing at once: until every watcher has all B (the tenant-wide change
 *     rate a PRESENCE_SHARDS-sharded tenant sustains).
 * Latencies include the Node clients' own work on the same machine (every frame is validated).
 * The default of 1,500 users (3,000 sockets) stays under workerd's open-file limit on these
 * machines (`ulimit -n` 20000, hard): wrangler dev uses about 6 descriptors per WebSocket, and
 * 2,000 users stopped workerd with "accept: Too many open files" at about 3,300 sockets.
 *
 *   npm run bench:presence -- --users 1500 --changes 20 --burst 100 --shards 4
 */
import { parseArgs } from 'node:util';
import type { PresenceStatus } from '@callstack/protocol';
import type { PresenceClient as Watcher } from '../lib/PresenceClient.ts';
import { PresenceClient } from '../lib/PresenceClient.ts';
import { SignalingClient } from '../lib/SignalingClient.ts';
import { connectAll, percentile, withBenchStack } from './stack.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: process.env.BENCH_USERS ?? '1500' },
    changes: { type: 'string', default: process.env.BENCH_CHANGES ?? '20' },
    burst: { type: 'string', default: process.env.BENCH_BURST ?? '100' },
    shards: { type: 'string', default: process.env.BENCH_SHARDS ?? '4' },
  },
});
const USERS = Number(values.users);
const CHANGES = Number(values.changes);
const BURST = Math.min(Number(values.burst), USERS);
const SHARDS = values.shards;
const CONNECT_CONCURRENCY = 50;
const WAIT_MS = 120_000;

console.log(`bench:presence: ${USERS} users (a signaling and a presence socket each), ${SHARDS} shards, ${CHANGES} single changes, a burst of ${BURST}`);
await withBenchStack('bench-presence', { users: USERS, vars: { PRESENCE_SHARDS: SHARDS } }, async (stack, onStop) => {
  const devices = await connectAll(USERS, CONNECT_CONCURRENCY, async (index) => SignalingClient.connect(stack.url, await stack.token(stack.userIds[index]!)));
  onStop(async () => {
    await Promise.all(devices.clients.map((client) => client.close().catch(() => {})));
  });
  console.log(`signaling: ${USERS} sockets in ${devices.seconds.toFixed(1)} s (${devices.perSecond.toFixed(0)} connections/s)`);

  const watchers = await connectAll(USERS, CONNECT_CONCURRENCY, async (index) => PresenceClient.connect(stack.url, await stack.token(stack.userIds[index]!)));
  onStop(async () => {
    await Promise.all(watchers.clients.map((client) => client.close().catch(() => {})));
  });
  console.log(
    `presence:  ${USERS} sockets in ${watchers.seconds.toFixed(1)} s (${watchers.perSecond.toFixed(0)} connections/s, each with a snapshot of up to ${USERS} users)`,
  );

  // Publishes of the last connects may still be on their way: start from a settled tenant.
  const settledBy = performance.now() + WAIT_MS;
  while (!watchers.clients.every((watcher) => stack.userIds.every((userId) => watcher.statusOf(userId) === 'online'))) {
    if (performance.now() > settledBy) throw new Error('watchers did not see every user online');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const delays: number[] = [];
  const completions: number[] = [];
  const changed = new Set<number>();
  for (let i = 0; i < CHANGES; i++) {
    const index = (i * 7919) % USERS;
    changed.add(index);
    const status: PresenceStatus = i % 2 === 0 ? 'away' : 'dnd';
    const { perWatcher, all } = await change(watchers.clients, [{ device: devices.clients[index]!, userId: stack.userIds[index]!, status }]);
    delays.push(...perWatcher);
    completions.push(all);
  }
  delays.sort((a, b) => a - b);
  completions.sort((a, b) => a - b);

  // Users still online, so each of them really changes.
  const burstIndexes = stack.userIds
    .map((_, index) => index)
    .filter((index) => !changed.has(index))
    .slice(0, BURST);
  const burst = await change(
    watchers.clients,
    burstIndexes.map((index) => ({ device: devices.clients[index]!, userId: stack.userIds[index]!, status: 'dnd' as const })),
  );

  const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(10);
  console.log(`\nresults (${USERS} users, ${USERS} watchers, ${SHARDS} shards)`);
  console.log(`  connections/s           signaling ${devices.perSecond.toFixed(0)}, presence ${watchers.perSecond.toFixed(0)}`);
  console.log(`  single change → each watcher (${delays.length} deliveries over ${CHANGES} changes)`);
  console.log(`    p50 ${ms(percentile(delays, 50))}   p99 ${ms(percentile(delays, 99))}   max ${ms(delays.at(-1) ?? NaN)}`);
  console.log(`  single change → all ${USERS} watchers: p50 ${ms(percentile(completions, 50))}   max ${ms(completions.at(-1) ?? NaN)}`);
  const burstSeconds = burst.all / 1000;
  console.log(
    `  burst of ${BURST} changes → all watchers in ${ms(burst.all)}: ${(BURST / burstSeconds).toFixed(0)} changes/s, ${((BURST * USERS) / burstSeconds).toFixed(0)} updates delivered/s`,
  );
  console.log(`    per delivery p50 ${ms(percentile(burst.perWatcher, 50))}   p99 ${ms(percentile(burst.perWatcher, 99))}`);
});

/** Makes each change from its user's device; resolves with every watcher's delay and the time until all had them all. */
async function change(
  watchers: Watcher[],
  changes: { device: SignalingClient; userId: string; status: 'away' | 'dnd' }[],
): Promise<{ perWatcher: number[]; all: number }> {
  const start = performance.now();
  const perWatcher: number[] = [];
  const arrivals = watchers.flatMap((watcher) =>
    changes.map(({ userId, status }) => watcher.waitForStatus(userId, status, WAIT_MS).then(() => void perWatcher.push(performance.now() - start))),
  );
  for (const { device, status } of changes) device.send({ type: 'presence.set', status });
  await Promise.all(arrivals);
  perWatcher.sort((a, b) => a - b);
  return { perWatcher, all: performance.now() - start };
}
