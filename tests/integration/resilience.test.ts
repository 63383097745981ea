/**
 * The edge loses nothing when things die: the whole runtime is killed mid-call (every Durable
 * Object evicted, every socket cut) and restarted on its persisted state, and the database goes
 * away and comes back. Each test runs its own edge (and relay) so it can kill them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startNeonRelay } from '../../edge/dev/neonRelay.ts';
import { ensureDir, freePort } from '../../scripts/lib/processes.ts';
import { startEdge, type Edge } from '../../scripts/lib/stack.ts';
import { callRecord, createTenant, login, waitForCallRecord, type TestUser } from '../lib/fixtures.ts';
import { SignalingClient } from '../lib/SignalingClient.ts';
import { stack } from '../lib/stack.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function ownEdge(name: string, vars: Record<string, string> = {}): Promise<{ start: () => Promise<Edge> }> {
  const stateDir = ensureDir(stack.tmp(name));
  const settings = { stateDir, logFile: join(stateDir, 'edge.log'), vars: { ...stack.edgeVars, ...vars } };
  return {
    start: async () => {
      const edge = await startEdge(settings);
      cleanups.push(() => edge.stop());
      return edge;
    },
  };
}

async function connect(edge: Edge, user: TestUser, deviceId: string): Promise<SignalingClient> {
  const session = await login(user, edge.url);
  const client = await SignalingClient.connect(edge.url, session.accessToken, deviceId);
  cleanups.push(() => client.close());
  return client;
}

test('an answered call survives the runtime being killed and restarted, and its CDR covers the whole call', async () => {
  const tenant = await createTenant();
  const runtime = await ownEdge('restart-active');
  const first = await runtime.start();
  const alice = await connect(first, tenant.users.alice, 'alice-desk');
  const bob = await connect(first, tenant.users.bob, 'bob-desk');
  const callId = crypto.randomUUID();
  await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media: { audio: true, video: true } });
  await bob.next('call.incoming');
  await bob.request({ type: 'call.accept', callId });
  const { answeredAt } = await alice.next('call.accepted');

  await first.service.kill(); // SIGKILL: no close handlers, nothing flushed beyond what was stored
  const second = await runtime.start();
  const aliceAgain = await connect(second, tenant.users.alice, 'alice-desk');
  const bobAgain = await connect(second, tenant.users.bob, 'bob-desk');
  assert.deepEqual(aliceAgain.hello.activeCalls, [{ callId, state: 'active' }]);
  assert.deepEqual(bobAgain.hello.activeCalls, [{ callId, state: 'active' }]);

  aliceAgain.send({ type: 'call.offer', callId, sdp: 'v=0 ice restart' });
  assert.equal((await bobAgain.next('call.offer')).sdp, 'v=0 ice restart');
  await aliceAgain.request({ type: 'call.hangup', callId });
  const ended = await bobAgain.next('call.ended');
  assert.equal(ended.reason, 'hangup');
  const cdr = await waitForCallRecord(callId);
  assert.equal(cdr.end_reason, 'hangup');
  assert.equal(new Date(cdr.answered_at!).getTime(), answeredAt);
  assert.ok(cdr.duration_ms >= 1_000, `the CDR spans the restart: ${cdr.duration_ms} ms`);
});

test('the ring timeout set before the runtime died still ends the call after the restart', async () => {
  const tenant = await createTenant();
  const runtime = await ownEdge('restart-ringing', { RING_TIMEOUT_SECONDS: '4' });
  const first = await runtime.start();
  const alice = await connect(first, tenant.users.alice, 'alice-desk');
  const bob = await connect(first, tenant.users.bob, 'bob-desk');
  const callId = crypto.randomUUID();
  await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media: { audio: true, video: false } });
  await bob.next('call.incoming');

  await first.service.kill();
  await runtime.start();
  // The alarm may fire before or after a device reconnects, so the record is what proves it.
  const record = await waitForCallRecord(callId, 30_000);
  assert.equal(record.end_reason, 'no-answer');
  assert.equal(record.answered_at, null);
});

test('while the database is down: sign-in answers 503, calls still end, and the CDR is written when it returns', async () => {
  const tenant = await createTenant();
  const database = new URL(stack.database.databaseUrl);
  const relayPort = await freePort();
  const openRelay = () => startNeonRelay({ port: relayPort, allow: [`${database.hostname}:${database.port}`] });
  let relay = await openRelay();
  cleanups.push(() => relay.close());
  const runtime = await ownEdge('database-outage', { NEON_WS_PROXY: relay.url });
  const edge = await runtime.start();
  const alice = await connect(edge, tenant.users.alice, 'alice-desk');
  const bob = await connect(edge, tenant.users.bob, 'bob-desk');
  const callId = crypto.randomUUID();
  await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media: { audio: true, video: false } });
  await bob.next('call.incoming');
  await bob.request({ type: 'call.accept', callId });
  await alice.next('call.accepted');

  await relay.close();
  const refused = await fetch(`${edge.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: tenant.users.carol.email, password: tenant.users.carol.password }),
  });
  assert.equal(refused.status, 503);
  assert.deepEqual(await refused.json(), { error: { code: 'database_unavailable', message: 'the database is unavailable, try again shortly' } });
  const invite = await alice.request({ type: 'call.invite', callId: crypto.randomUUID(), to: tenant.users.carol.id, media: { audio: true, video: false } });
  // A second call (a consultation) is allowed, but finding carol, who is offline, needs the database.
  assert.equal(invite.type === 'error' && invite.code, 'database_unavailable', 'a call whose callee only the database knows');

  await alice.request({ type: 'call.hangup', callId });
  assert.equal((await bob.next('call.ended')).reason, 'hangup');
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(await callRecord(callId), undefined, 'nothing could be written yet');

  relay = await openRelay();
  const cdr = await waitForCallRecord(callId, 30_000);
  assert.equal(cdr.end_reason, 'hangup');
});
