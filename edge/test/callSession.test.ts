/**
 * A call's CDR with the database unreachable (as everywhere in these tests): kept in the session's
 * storage, retried from its alarm, and the session's storage is never dropped before it is written.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../src/db/callRecords.ts';
import { callSession } from '../src/objects/stubs.ts';
import type { CallState } from '../src/signaling/types.ts';
import { ringingCall } from './calls.ts';

const HOUR = 60 * 60 * 1000;

type Pending = { items: CallRecord[]; attempts: number; nextAttemptAt: number | null };

/** A call to a user with no device connected: it ends `unavailable` at once and its CDR cannot be written. */
async function unavailableCall(callId: string) {
  const session = callSession(env, 'tenant-cdr', callId);
  const started = await session.start({
    callId,
    tenantId: 'tenant-cdr',
    caller: { userId: 'alice', displayName: 'Alice', deviceId: 'a1' },
    callee: { userId: 'nobody-online', displayName: 'Bob' },
    media: { audio: true, video: false },
    record: false,
  });
  expect(started).toEqual({ ok: true });
  return session;
}

/**
 * The session's storage and alarm. `hold` then moves the alarm an hour ahead, so that a retry
 * (due within a second) runs when the test says rather than by itself.
 */
const inspect = (session: ReturnType<typeof callSession>, { hold = false } = {}) =>
  runInDurableObject(session, async (_session, state) => {
    const seen = {
      call: await state.storage.get<CallState>('call'),
      pending: await state.storage.get<Pending>('cdr.pending'),
      alarm: await state.storage.getAlarm(),
    };
    if (hold) await state.storage.setAlarm(Date.now() + HOUR);
    return seen;
  });

describe('a call’s CDR', () => {
  it('is kept when the write fails and retried from the alarm with backoff', async () => {
    const session = await unavailableCall('call-cdr-retry');
    const first = await inspect(session, { hold: true });
    expect(first.call).toMatchObject({ status: 'ended', endReason: 'unavailable' });
    expect(first.pending?.items).toMatchObject([{ callId: 'call-cdr-retry', endReason: 'unavailable', calleeId: 'nobody-online' }]);
    expect(first.alarm).toBe(first.pending?.nextAttemptAt);

    expect(await runDurableObjectAlarm(session)).toBe(true);
    const second = await inspect(session, { hold: true });
    expect(second.pending?.attempts).toBe(first.pending!.attempts + 1);
    expect(second.alarm).toBe(second.pending?.nextAttemptAt);
    expect(second.alarm).toBeGreaterThan(first.pending!.nextAttemptAt!);
  });

  it('keeps the session past the hour while its CDR is unwritten', async () => {
    const session = await unavailableCall('call-cdr-kept');
    await runInDurableObject(session, async (_session, state) => {
      const call = (await state.storage.get<CallState>('call'))!;
      await state.storage.put('call', { ...call, endedAt: Date.now() - 2 * HOUR });
      await state.storage.setAlarm(Date.now() + HOUR);
    });
    expect(await runDurableObjectAlarm(session)).toBe(true);
    const after = await inspect(session, { hold: true });
    expect(after.call?.status).toBe('ended');
    expect(after.pending?.items).toHaveLength(1);
    expect(after.alarm).toBe(after.pending?.nextAttemptAt);
    expect(await session.isLive()).toBe(false);
  });

  it('drops the session’s storage an hour after the end once nothing waits to be written', async () => {
    const session = callSession(env, 'tenant-cdr', 'call-cdr-clean');
    const endedAt = Date.now() - HOUR - 1;
    await runInDurableObject(session, async (_session, state) => {
      await state.storage.put<CallState>('call', { ...ringingCall(), callId: 'call-cdr-clean', status: 'ended', endedAt, endReason: 'hangup' });
      // Later than now, so that it runs when the test says, not by itself.
      await state.storage.setAlarm(Date.now() + HOUR);
    });
    expect(await runDurableObjectAlarm(session)).toBe(true);
    expect(await inspect(session)).toEqual({ call: undefined, pending: undefined, alarm: null });
  });

  it('adopts a CDR left unwritten in the format before DurableWriter', async () => {
    const session = callSession(env, 'tenant-cdr', 'call-cdr-legacy');
    await runInDurableObject(session, async (_session, state) => {
      const endedAt = Date.now() - 1_000;
      await state.storage.put<CallState>('call', { ...ringingCall(), callId: 'call-cdr-legacy', status: 'ended', endedAt, endReason: 'hangup' });
      await state.storage.put('cdr', { attempts: 3, nextAttemptAt: Date.now(), written: false });
      await state.storage.setAlarm(Date.now() + HOUR);
    });
    expect(await runDurableObjectAlarm(session)).toBe(true);
    const after = await inspect(session, { hold: true });
    expect(after.pending).toMatchObject({ items: [{ callId: 'call-cdr-legacy', endReason: 'hangup' }], attempts: 1 });
    expect(after.alarm).toBe(after.pending?.nextAttemptAt);
    expect(await runInDurableObject(session, (_session, state) => state.storage.get('cdr'))).toBeUndefined();
  });
});
