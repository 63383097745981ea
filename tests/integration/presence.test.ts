/**
 * Live presence through the real edge: what a watcher (`/api/presence`) sees as another user's
 * devices connect, idle, call, choose a status and leave; snapshots; sharding; tenant isolation;
 * bad input on the presence socket. The stack runs with PRESENCE_OFFLINE_GRACE_SECONDS=2.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { shardIndex, watcherKey } from '../../edge/src/presence/shards.ts';
import { createTenant, expiredSocketTicket, login, type TestTenant } from '../lib/fixtures.ts';
import { devicePool, type SignalingClient } from '../lib/SignalingClient.ts';
import { refusedUpgrade } from '../lib/SocketClient.ts';
import { stack } from '../lib/stack.ts';

const { device, watcher, closeAll } = devicePool(() => stack.url, login);
after(closeAll);

const media = { audio: true, video: false };
const graceMs = () => Number(stack.edgeVars.PRESENCE_OFFLINE_GRACE_SECONDS) * 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function setStatus(client: SignalingClient, status: 'online' | 'away' | 'dnd'): Promise<void> {
  assert.equal((await client.request({ type: 'presence.set', status })).type, 'ack');
}

async function setIdle(client: SignalingClient, idle: boolean): Promise<void> {
  assert.equal((await client.request({ type: 'presence.activity', idle })).type, 'ack');
}

describe('what a watcher sees of a user', () => {
  // A tenant per test: devices left open by one test must not keep a user online in the next.
  let tenant: TestTenant;
  beforeEach(async () => {
    tenant = await createTenant();
  });

  test('online when the first device connects, busy in a call, online again after the hang-up', async () => {
    const { alice, carol } = tenant.users;
    const bob = await watcher(tenant.users.bob);
    assert.equal(bob.statusOf(alice.id), 'offline');
    const aliceDesk = await device(alice);
    await bob.waitForStatus(alice.id, 'online');
    assert.equal((await aliceDesk.next('presence.self')).status, 'online');

    const carolPhone = await device(carol);
    const callId = crypto.randomUUID();
    await carolPhone.request({ type: 'call.invite', callId, to: alice.id, media });
    await aliceDesk.next('call.incoming', (m) => m.callId === callId);
    await bob.waitForStatus(alice.id, 'busy'); // ringing already counts
    await aliceDesk.request({ type: 'call.accept', callId });
    await carolPhone.next('call.accepted');
    assert.equal(bob.statusOf(alice.id), 'busy');
    assert.equal(bob.statusOf(carol.id), 'busy');
    await aliceDesk.next('presence.self', (m) => m.status === 'busy');

    await carolPhone.request({ type: 'call.hangup', callId });
    await bob.waitForStatus(alice.id, 'online');
    await bob.waitForStatus(carol.id, 'online');
  });

  test('away when she sets it, and when all her devices are idle; online when one is active again', async () => {
    const { alice } = tenant.users;
    const bob = await watcher(tenant.users.bob);
    const desk = await device(alice);
    const laptop = await device(alice);
    await bob.waitForStatus(alice.id, 'online');

    await setStatus(laptop, 'away');
    await bob.waitForStatus(alice.id, 'away');
    // Every device shows the same status and the manual choice.
    for (const tab of [desk, laptop]) {
      const self = await tab.next('presence.self', (m) => m.status === 'away');
      assert.equal(self.manual, 'away');
    }
    await setStatus(desk, 'online');
    await bob.waitForStatus(alice.id, 'online');

    await setIdle(desk, true);
    await sleep(300);
    assert.equal(bob.statusOf(alice.id), 'online', 'one active device keeps her online');
    await setIdle(laptop, true);
    await bob.waitForStatus(alice.id, 'away');
    await setIdle(desk, false);
    await bob.waitForStatus(alice.id, 'online');
  });

  test('dnd: calls to her end busy without ringing, until she is online again', async () => {
    const { alice, carol } = tenant.users;
    const bob = await watcher(tenant.users.bob);
    const desk = await device(alice);
    await setStatus(desk, 'dnd');
    await bob.waitForStatus(alice.id, 'dnd');

    const carolPhone = await device(carol);
    const callId = crypto.randomUUID();
    await carolPhone.request({ type: 'call.invite', callId, to: alice.id, media });
    assert.equal((await carolPhone.next('call.ended', (m) => m.callId === callId)).reason, 'busy');
    assert.equal(desk.all('call.incoming').length, 0);
    assert.equal(bob.statusOf(alice.id), 'dnd');

    // The choice is the user's, not the device's: a new device starts in dnd too.
    const laptop = await device(alice);
    assert.equal((await laptop.next('presence.self')).status, 'dnd');
    await setStatus(laptop, 'online');
    await bob.waitForStatus(alice.id, 'online');
  });

  test('offline only after the grace period once her last device leaves', async () => {
    const { alice } = tenant.users;
    const bob = await watcher(tenant.users.bob);
    const desk = await device(alice);
    const laptop = await device(alice);
    await bob.waitForStatus(alice.id, 'online');

    await desk.close();
    await sleep(graceMs() + 1_000);
    assert.equal(bob.statusOf(alice.id), 'online', 'a second device keeps her online');

    const left = Date.now();
    await laptop.close();
    await bob.waitForStatus(alice.id, 'offline', graceMs() + 15_000);
    assert.ok(Date.now() - left >= graceMs(), `offline after ${Date.now() - left} ms, grace ${graceMs()} ms`);
  });

  test('a device coming back within the grace period cancels offline', async () => {
    const { alice } = tenant.users;
    const bob = await watcher(tenant.users.bob);
    await device(alice, 'alice-tab');
    await bob.waitForStatus(alice.id, 'online');
    const updatesBefore = bob.updatesOf(alice.id).length;

    const tab = await device(alice, 'alice-tab-2');
    await device(alice, 'alice-tab'); // a reload: the old socket is replaced, not lost
    await tab.close();
    const reloaded = await device(alice, 'alice-tab-2');
    await sleep(graceMs() + 1_500);
    assert.equal(bob.statusOf(alice.id), 'online');
    assert.equal(bob.updatesOf(alice.id).length, updatesBefore, 'watchers saw no flicker');
    assert.ok(reloaded.isOpen);
  });
});

describe('presence snapshot and shards', () => {
  test('a new watcher gets the current statuses; offline users are absent', async () => {
    const tenant = await createTenant();
    const { alice, carol, dave } = tenant.users;
    const first = await watcher(tenant.users.bob);
    const aliceDesk = await device(alice);
    await setStatus(aliceDesk, 'dnd');
    const carolDesk = await device(carol);
    await setStatus(carolDesk, 'away');
    await first.waitForStatus(alice.id, 'dnd');
    await first.waitForStatus(carol.id, 'away');

    const late = await watcher(tenant.users.bob);
    const snapshot = late.all('presence.snapshot').flatMap((part) => part.users);
    assert.deepEqual(
      snapshot.map(({ userId, status }) => ({ userId, status })).sort((a, b) => a.userId.localeCompare(b.userId)),
      [
        { userId: alice.id, status: 'dnd' },
        { userId: carol.id, status: 'away' },
      ],
    );
    assert.equal(late.statusOf(dave.id), 'offline');
  });

  test('watchers on every shard receive each update', async () => {
    const tenant = await createTenant();
    const shards = Number(stack.edgeVars.PRESENCE_SHARDS);
    assert.ok(shards > 1);
    // One watcher device per shard, chosen by the same hash the Worker routes with.
    const deviceIds: string[] = [];
    for (let i = 0; deviceIds.length < shards; i++) {
      const id = `watch-${i}`;
      if (!deviceIds.some((other) => shardIndex(watcherKey(tenant.users.bob.id, other), shards) === shardIndex(watcherKey(tenant.users.bob.id, id), shards))) {
        deviceIds.push(id);
      }
    }
    const watchers = await Promise.all(deviceIds.map((id) => watcher(tenant.users.bob, id)));
    const aliceDesk = await device(tenant.users.alice);
    await Promise.all(watchers.map((w) => w.waitForStatus(tenant.users.alice.id, 'online')));
    await setStatus(aliceDesk, 'away');
    await Promise.all(watchers.map((w) => w.waitForStatus(tenant.users.alice.id, 'away')));
  });
});

describe('presence boundaries', () => {
  test('a user of another tenant never sees these updates', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const outsider = await watcher(other.users.bob);
    const insider = await watcher(tenant.users.bob);
    const aliceDesk = await device(tenant.users.alice);
    await setStatus(aliceDesk, 'dnd');
    await insider.waitForStatus(tenant.users.alice.id, 'dnd');
    const lateOutsider = await watcher(other.users.carol);
    const seen = [...outsider.received, ...lateOutsider.received].flatMap((m) =>
      m.type === 'presence.updates' || m.type === 'presence.snapshot' ? m.users.map((u) => u.userId) : [],
    );
    assert.equal(seen.filter((userId) => Object.values(tenant.users).some((user) => user.id === userId)).length, 0);
  });

  test('no ticket or an expired ticket: 401', async () => {
    const tenant = await createTenant();
    const missing = await refusedUpgrade(`${stack.url}/api/presence`);
    assert.equal(missing.status, 401);
    assert.deepEqual(missing.body, { error: { code: 'unauthorized', message: 'missing socket ticket (POST /api/sockets/ticket)' } });
    const expired = await expiredSocketTicket(tenant.users.bob);
    const refused = await refusedUpgrade(`${stack.url}/api/presence?ticket=${expired}`);
    assert.equal(refused.status, 401);
    assert.equal((refused.body as { error: { code: string } }).error.code, 'token_expired');
  });

  test('malformed frames on either socket get typed errors and the socket stays open', async () => {
    const tenant = await createTenant();
    const bob = await watcher(tenant.users.bob);
    bob.sendRaw('{oops');
    assert.equal((await bob.next('error')).code, 'bad_message');
    bob.sendRaw(JSON.stringify({ type: 'presence.set', status: 'dnd' }));
    assert.match((await bob.next('error')).message, /type/);
    bob.send({ type: 'ping', ref: 'still-there' });
    assert.equal((await bob.next('pong')).ref, 'still-there');

    const desk = await device(tenant.users.alice);
    desk.sendRaw(JSON.stringify({ type: 'presence.set', status: 'busy' }));
    assert.equal((await desk.next('error')).code, 'bad_message');
    desk.sendRaw(JSON.stringify({ type: 'presence.activity', idle: 'yes' }));
    assert.match((await desk.next('error')).message, /^idle: /);
    await setStatus(desk, 'away');
    await bob.waitForStatus(tenant.users.alice.id, 'away');
  });
});
