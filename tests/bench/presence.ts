/**
 * `npm run bench:presence`: presence fan-out through the real edge (workerd directly).
 *
 * One tenant of N users, each watching the whole tenant over a presence socket; D of them also
 * have a signaling socket (their device), which makes them online and is where their changes come
 * from (the others stay offline: a user needs a device to change status). Measures the accept rate
 * of both kinds of connection, then:
 *   - single changes, one after another: from sending `presence.set` until every watcher has the
 *     new status (per-delivery delay p50/p99/max over watchers and changes);
 *   - a burst of B devices changing at once: until every watcher has all B, and how many of the
 *     N × B deliveries arrived (none may be lost).
 * The watchers here parse each frame as JSON and nothing more (the tests validate them with the
 * protocol schemas): at 10,000 watchers the load generator shares the two cores with the edge.
 * Sockets: workerd and this process each hold N + D, under the open-file limit of 20,000.
 *
 *   npm run bench:presence -- --users 10000 --devices 1000 --changes 20 --burst 1000 --shards 4
 */
import { parseArgs } from 'node:util';
import type { PresenceStatus } from '@callstack/protocol';
import { WebSocket } from 'ws';
import { socketUrl } from '../lib/SocketClient.ts';
import { SignalingClient } from '../lib/SignalingClient.ts';
import { report } from './report.ts';
import { connectAll, percentile, printPerOperation, usageBetween, withBenchStack } from './stack.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    devices: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '20' },
    burst: { type: 'string', default: '1000' },
    shards: { type: 'string', default: '4' },
  },
});
const USERS = Number(values.users);
const DEVICES = Math.min(Number(values.devices), USERS);
const CHANGES = Number(values.changes);
const BURST = Math.min(Number(values.burst), DEVICES - CHANGES);
const SHARDS = values.shards;
const CONNECT_CONCURRENCY = 50;
const WAIT_MS = 180_000;

/** What one change step expects: each watcher counts the deliveries that bring a user to its new status. */
interface Step {
  start: number;
  expected: Map<string, PresenceStatus>;
  /** Delivery delays, bucketed by millisecond (10 million deliveries would not fit an array well). */
  histogram: number[];
  delivered: number;
  completions: number[];
  done: () => void;
}

let step: Step | null = null;

/** A watcher that keeps statuses from the snapshot and updates, and reports step deliveries. */
class Watcher {
  private readonly statuses = new Map<string, string>();
  private got = 0;

  static async connect(url: string): Promise<Watcher> {
    const watcher = new Watcher();
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as {
          type: string;
          users?: { userId: string; status: string }[];
          more?: boolean;
        };
        if (message.type === 'presence.snapshot') {
          for (const user of message.users ?? []) watcher.statuses.set(user.userId, user.status);
          if (!message.more) resolve();
        } else if (message.type === 'presence.updates') for (const user of message.users ?? []) watcher.update(user.userId, user.status);
      });
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    });
    watcher.close = () => ws.terminate();
    return watcher;
  }

  close: () => void = () => {};

  statusOf(userId: string): string {
    return this.statuses.get(userId) ?? 'offline';
  }

  /** Starts counting for a new step. */
  reset(): void {
    this.got = 0;
  }

  private update(userId: string, status: string): void {
    const before = this.statuses.get(userId);
    this.statuses.set(userId, status);
    if (!step || before === status || step.expected.get(userId) !== status) return;
    const ms = Math.floor(performance.now() - step.start);
    step.histogram[ms] = (step.histogram[ms] ?? 0) + 1;
    step.delivered++;
    if (++this.got === step.expected.size) {
      step.completions.push(performance.now() - step.start);
      if (step.completions.length === USERS) step.done();
    }
  }
}

console.log(
  `bench:presence: ${USERS} users watching the tenant, ${DEVICES} of them with a device, ${SHARDS} shards, ${CHANGES} single changes, a burst of ${BURST}`,
);
await withBenchStack('bench-presence', { users: USERS, vars: { PRESENCE_SHARDS: SHARDS } }, async (stack, onStop) => {
  const beforeDevices = await stack.usage();
  const devices = await connectAll(DEVICES, CONNECT_CONCURRENCY, async (index) => SignalingClient.connect(stack.url, await stack.token(stack.userIds[index]!)));
  onStop(async () => {
    await Promise.all(devices.clients.map((client) => client.close().catch(() => {})));
  });
  const deviceUsage = usageBetween(beforeDevices, await stack.usage());
  console.log(`signaling: ${DEVICES} sockets in ${devices.seconds.toFixed(1)} s (${devices.perSecond.toFixed(0)} connections/s)`);

  const beforeWatchers = await stack.usage();
  const watchers = await connectAll(USERS, CONNECT_CONCURRENCY, async (index) =>
    Watcher.connect(await socketUrl(stack.url, '/api/presence', await stack.token(stack.userIds[index]!), crypto.randomUUID())),
  );
  onStop(async () => {
    for (const watcher of watchers.clients) watcher.close();
  });
  const watcherUsage = usageBetween(beforeWatchers, await stack.usage());
  console.log(
    `presence:  ${USERS} sockets in ${watchers.seconds.toFixed(1)} s (${watchers.perSecond.toFixed(0)} connections/s, each with a snapshot of the ${DEVICES} online)`,
  );

  // Publishes of the last device connects may still be on their way: start from a settled tenant.
  const settledBy = performance.now() + WAIT_MS;
  const online = stack.userIds.slice(0, DEVICES);
  while (!watchers.clients.every((watcher) => online.every((userId) => watcher.statusOf(userId) === 'online'))) {
    if (performance.now() > settledBy) throw new Error('watchers did not see every device online');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const single = { histogram: [] as number[], completions: [] as number[], delivered: 0 };
  const beforeSingles = await stack.usage();
  for (let i = 0; i < CHANGES; i++) {
    const result = await change(watchers.clients, [{ device: devices.clients[i]!, userId: stack.userIds[i]!, status: i % 2 === 0 ? 'away' : 'dnd' }]);
    result.histogram.forEach((count, ms) => (single.histogram[ms] = (single.histogram[ms] ?? 0) + count));
    single.completions.push(Math.max(...result.completions));
    single.delivered += result.delivered;
  }
  const singleUsage = usageBetween(beforeSingles, await stack.usage());

  const burstDevices = Array.from({ length: BURST }, (_, k) => CHANGES + k);
  const beforeBurst = await stack.usage();
  const burst = await change(
    watchers.clients,
    burstDevices.map((index) => ({ device: devices.clients[index]!, userId: stack.userIds[index]!, status: 'dnd' as const })),
  );
  const burstUsage = usageBetween(beforeBurst, await stack.usage());

  const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(10);
  const singleSorted = [...single.completions].sort((a, b) => a - b);
  console.log(`\nresults (${USERS} watchers, ${DEVICES} devices, ${SHARDS} shards)`);
  console.log(`  connections/s           signaling ${devices.perSecond.toFixed(0)}, presence ${watchers.perSecond.toFixed(0)}`);
  console.log(`  single change → each watcher (${single.delivered} of ${CHANGES * USERS} deliveries over ${CHANGES} changes)`);
  console.log(
    `    p50 ${ms(histogramPercentile(single.histogram, 50))}   p99 ${ms(histogramPercentile(single.histogram, 99))}   max ${ms(single.histogram.length - 1)}`,
  );
  console.log(`  single change → all ${USERS} watchers: p50 ${ms(percentile(singleSorted, 50))}   max ${ms(singleSorted.at(-1) ?? NaN)}`);
  const burstAll = Math.max(...burst.completions, 0);
  const lost = USERS * BURST - burst.delivered;
  console.log(
    `  burst of ${BURST} changes → ${burst.delivered} of ${USERS * BURST} deliveries (${lost} lost) in ${ms(burstAll)}: ${(BURST / (burstAll / 1000)).toFixed(0)} changes/s, ${(burst.delivered / (burstAll / 1000)).toFixed(0)} updates delivered/s`,
  );
  console.log(`    per delivery p50 ${ms(histogramPercentile(burst.histogram, 50))}   p99 ${ms(histogramPercentile(burst.histogram, 99))}`);
  const perDevice = printPerOperation('device connection', DEVICES, deviceUsage);
  const perWatcher = printPerOperation('watcher connection (with its snapshot)', USERS, watcherUsage);
  printPerOperation(`single change (to ${USERS} watchers)`, CHANGES, singleUsage);
  printPerOperation(`burst change (to ${USERS} watchers)`, BURST, burstUsage);
  const conditions = `${USERS} watchers, ${DEVICES} devices, ${SHARDS} shards`;
  report([
    {
      bench: 'presence',
      name: 'one change to every watcher, p99 per delivery',
      value: histogramPercentile(single.histogram, 99),
      unit: 'ms',
      target: { value: 500, better: 'lower' },
      conditions,
    },
    { bench: 'presence', name: `burst of ${BURST} changes: deliveries lost`, value: lost, unit: '', target: { value: 0, better: 'lower' }, conditions },
    { bench: 'presence', name: `burst of ${BURST} changes: all delivered in`, value: burstAll, unit: 'ms', conditions },
    { bench: 'presence', name: 'presence connections/s', value: watchers.perSecond, unit: '/s', target: { value: 500, better: 'higher' }, conditions },
    { bench: 'presence', name: 'edge CPU per watcher connection', value: perWatcher.cpuMs, unit: 'ms', conditions },
    { bench: 'presence', name: 'edge CPU per device connection', value: perDevice.cpuMs, unit: 'ms', conditions },
  ]);
  if (lost > 0) process.exitCode = 1;
});

/** Makes each change from its user's device; resolves once every watcher has them all (or after WAIT_MS). */
async function change(watchers: Watcher[], changes: { device: SignalingClient; userId: string; status: 'away' | 'dnd' }[]): Promise<Step> {
  for (const watcher of watchers) watcher.reset();
  const current: Step = {
    start: performance.now(),
    expected: new Map(changes.map(({ userId, status }) => [userId, status])),
    histogram: [],
    delivered: 0,
    completions: [],
    done: () => {},
  };
  const finished = new Promise<void>((resolve) => {
    current.done = resolve;
    setTimeout(resolve, WAIT_MS).unref();
  });
  step = current;
  for (const { device, status } of changes) device.send({ type: 'presence.set', status });
  await finished;
  step = null;
  return current;
}

function histogramPercentile(histogram: number[], p: number): number {
  const total = histogram.reduce((sum, count) => sum + (count ?? 0), 0);
  let seen = 0;
  for (let ms = 0; ms < histogram.length; ms++) {
    seen += histogram[ms] ?? 0;
    if (seen >= (p / 100) * total) return ms;
  }
  return NaN;
}
