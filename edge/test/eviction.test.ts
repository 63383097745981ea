/**
 * A call survives its Durable Objects being evicted: every instance is thrown away mid-call
 * (abortAllDurableObjects keeps storage) and the call carries on from storage, alarms included.
 * The database is unreachable in these tests, so each ended call also shows its CDR kept for a
 * retry instead of lost.
 */
import type { ServerMessage } from '@callstack/protocol';
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { callSession, userHub } from '../src/signaling/stubs.ts';
import { identityHeaders, type DeviceIdentity } from '../src/signaling/UserHub.ts';
import type { CallState } from '../src/signaling/types.ts';

const suffix = crypto.randomUUID().slice(0, 8);
const tenantId = `evict-${suffix}`;
const alice: DeviceIdentity = { tenantId, userId: `alice-${suffix}`, deviceId: 'alice-laptop', displayName: 'Alice' };
const bob: DeviceIdentity = { tenantId, userId: `bob-${suffix}`, deviceId: 'bob-phone', displayName: 'Bob' };

interface Device {
  ws: WebSocket;
  next(type: ServerMessage['type']): Promise<ServerMessage>;
}

async function connect(identity: DeviceIdentity): Promise<Device> {
  const response = await userHub(env, identity.tenantId, identity.userId).fetch('https://hub/', {
    headers: { Upgrade: 'websocket', ...identityHeaders(identity) },
  });
  const ws = response.webSocket!;
  const received: ServerMessage[] = [];
  const waiting: { type: string; resolve: (message: ServerMessage) => void }[] = [];
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(event.data as string) as ServerMessage;
    const index = waiting.findIndex((w) => w.type === message.type);
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message);
    else received.push(message);
  });
  ws.accept();
  sockets.push(ws);
  return {
    ws,
    next: (type) => {
      const index = received.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(received.splice(index, 1)[0]!);
      return new Promise((resolve) => waiting.push({ type, resolve }));
    },
  };
}

const stored = (callId: string) =>
  runInDurableObject(callSession(env, tenantId, callId), (_instance, state) => state.storage.get<CallState>('call'));

/** The CDR could not be written (no database): it must be kept, with a retry scheduled. */
async function expectCdrPending(callId: string) {
  const stub = callSession(env, tenantId, callId);
  const { cdr, alarm } = await runInDurableObject(stub, async (_instance, state) => ({
    cdr: await state.storage.get<{ attempts: number; nextAttemptAt: number; written: boolean }>('cdr'),
    alarm: await state.storage.getAlarm(),
  }));
  // The alarm may already have retried once on its own: what matters is that the CDR is kept.
  expect(cdr?.written).toBe(false);
  expect(cdr!.attempts).toBeGreaterThanOrEqual(1);
  expect(cdr!.nextAttemptAt).toBeGreaterThan(Date.now());
  expect(alarm).toBe(cdr!.nextAttemptAt);
}

function start(callId: string) {
  return callSession(env, tenantId, callId).start({
    callId,
    tenantId,
    caller: { userId: alice.userId, displayName: alice.displayName, deviceId: alice.deviceId },
    callee: { userId: bob.userId, displayName: bob.displayName },
    media: { audio: true, video: false },
  });
}

const callIds: string[] = [];
const sockets: WebSocket[] = [];
const newCallId = () => {
  const callId = crypto.randomUUID();
  callIds.push(callId);
  return callId;
};

// The CDR retries would go on for hours (no database here): stop them so the runtime can exit.
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.close(1000);
  for (const callId of callIds.splice(0)) {
    await runInDurableObject(callSession(env, tenantId, callId), async (_instance, state) => {
      await state.storage.deleteAlarm();
      await state.storage.deleteAll();
    });
  }
});

describe('call state across eviction', () => {
  it('an answered call is still answered after eviction, and hangs up with the right duration', async () => {
    const aliceDevice = await connect(alice);
    const bobDevice = await connect(bob);
    const callId = newCallId();
    expect(await start(callId)).toEqual({ ok: true });
    await bobDevice.next('call.incoming');
    bobDevice.ws.send(JSON.stringify({ type: 'call.accept', callId }));
    await aliceDevice.next('call.accepted');

    await abortAllDurableObjects();

    const afterEviction = await stored(callId);
    expect(afterEviction?.status).toBe('active');
    expect(afterEviction?.callee.deviceId).toBe(bob.deviceId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const hangup = await callSession(env, tenantId, callId).act(alice, { type: 'call.hangup', callId });
    expect(hangup).toEqual({ ok: true });
    const ended = await stored(callId);
    expect(ended).toMatchObject({ status: 'ended', endReason: 'hangup' });
    expect(ended!.endedAt! - ended!.answeredAt!).toBeGreaterThanOrEqual(50);
    await expectCdrPending(callId);
  });

  it('the ring timeout still fires after eviction', async () => {
    await connect(alice);
    const bobDevice = await connect(bob);
    const callId = newCallId();
    await start(callId);
    await bobDevice.next('call.incoming');

    await abortAllDurableObjects();
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // RING_TIMEOUT_SECONDS is 1 here

    await runDurableObjectAlarm(callSession(env, tenantId, callId));
    expect(await stored(callId)).toMatchObject({ status: 'ended', endReason: 'no-answer' });
    await expectCdrPending(callId);
  });
});
