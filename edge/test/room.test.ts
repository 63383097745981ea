/**
 * The Room object itself, without a media node or a database (both unreachable here by design):
 * what it stores, answers and schedules when a node is missing or dead and a stay cannot be written.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Room } from '../src/rooms/Room.ts';
import type { RoomState } from '../src/rooms/roomTypes.ts';

const alice = { tenantId: 'tenant-r', userId: 'alice', deviceId: 'a1', displayName: 'Alice' };
const bob = { tenantId: 'tenant-r', userId: 'bob', deviceId: 'b1', displayName: 'Bob' };
/** Nothing listens there: every control request fails at once (the node is dead). */
const DEAD_NODE = { nodeId: 'node-dead', controlUrl: 'http://127.0.0.1:9', placedAt: 0, rtpCapabilities: { codecs: [], headerExtensions: [] } };

function newRoom(): DurableObjectStub<Room> {
  return env.ROOM.get(env.ROOM.newUniqueId());
}

/** Alice and Bob in a room on a node that died. */
async function roomOnDeadNode(): Promise<DurableObjectStub<Room>> {
  const stub = newRoom();
  await runInDurableObject(stub, async (_room, state) => {
    const now = Date.now();
    await state.storage.put<RoomState>('room', {
      tenantId: 'tenant-r',
      roomId: 'room-r',
      createdBy: 'alice',
      createdAt: now,
      activeAt: now,
      node: DEAD_NODE,
      participants: [
        { peerId: 'pa', userId: 'alice', deviceId: 'a1', displayName: 'Alice', joinedAt: now },
        { peerId: 'pb', userId: 'bob', deviceId: 'b1', displayName: 'Bob', joinedAt: now },
      ],
      producers: [{ producerId: 'mic-a', peerId: 'pa', kind: 'audio', source: 'mic', paused: false }],
    });
  });
  return stub;
}

const stored = (stub: DurableObjectStub<Room>) => runInDurableObject(stub, (_room, state) => state.storage.get<RoomState>('room'));

describe('the Room object', () => {
  it('a first join without any media node answers media_unavailable and leaves the room as it was', async () => {
    const stub = newRoom();
    expect(await stub.create('tenant-r', 'room-r', alice)).toEqual({ ok: true });
    expect(await stub.create('tenant-r', 'room-r', alice)).toMatchObject({ ok: false, code: 'conflict' });
    expect(await stub.act(alice, { type: 'room.join', roomId: 'room-r' })).toMatchObject({ ok: false, code: 'media_unavailable' });
    expect(await stored(stub)).toMatchObject({ node: null, participants: [] });
    expect(await stub.act(alice, { type: 'room.probe', roomId: 'room-r' })).toMatchObject({ ok: false, code: 'invalid_state' });
  });

  it('a node that fails a request is left; with no other node everyone keeps their place and hears media_unavailable', async () => {
    const stub = await roomOnDeadNode();
    expect(await stub.act(alice, { type: 'room.probe', roomId: 'room-r' })).toMatchObject({ ok: false, code: 'media_unavailable' });
    const state = await stored(stub);
    expect(state).toMatchObject({ node: null, producers: [] });
    expect(state?.participants.map((p) => p.peerId)).toEqual(['pa', 'pb']);
    expect(await stub.act(bob, { type: 'room.probe', roomId: 'room-r' })).toMatchObject({
      ok: false,
      code: 'media_unavailable',
      message: expect.stringMatching(/moving/),
    });
    // The health check tries again while the room is occupied.
    const alarm = await runInDurableObject(stub, (_room, s) => s.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });

  it('a stay that cannot be written is kept and retried from the alarm; the last one out frees the room', async () => {
    const stub = await roomOnDeadNode();
    expect(await stub.act(bob, { type: 'room.leave', roomId: 'room-r' })).toEqual({ ok: true });
    expect(await stub.act(bob, { type: 'room.leave', roomId: 'room-r' })).toMatchObject({ ok: false, code: 'invalid_state' });
    await stub.deviceGone(alice);
    const { pending, alarm } = await runInDurableObject(stub, async (_room, s) => ({
      pending: await s.storage.get<{ items: { sessionId: string }[]; nextAttemptAt: number | null }>('pending-stays'),
      alarm: await s.storage.getAlarm(),
    }));
    expect(pending?.items.map((stay) => stay.sessionId).sort()).toEqual(['pa', 'pb']);
    expect(pending?.nextAttemptAt).not.toBeNull();
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(pending!.nextAttemptAt!);
    expect(await stored(stub)).toMatchObject({ node: null, participants: [], producers: [] });
  });

  it('stays pending in the format before DurableWriter are handed to it by the alarm', async () => {
    const stub = newRoom();
    await stub.create('tenant-r', 'room-r', alice);
    const stay = { sessionId: 'old-peer', tenantId: 'tenant-r', roomId: 'room-r', userId: 'alice', joinedAt: 1, leftAt: 2, quality: null };
    const after = await runInDurableObject(stub, async (room, s) => {
      await s.storage.put('stays', { stays: [stay], attempts: 3, nextAttemptAt: Date.now() });
      await room.alarm();
      return { legacy: await s.storage.get('stays'), pending: await s.storage.get<{ items: unknown[] }>('pending-stays'), kept: await s.storage.get('room') };
    });
    expect(after.legacy).toBeUndefined();
    expect(after.pending?.items).toEqual([stay]);
    expect(after.kept).toBeDefined();
  });

  it('a closed call room lets nobody in', async () => {
    const stub = newRoom();
    await stub.create('tenant-r', 'room-c', alice, { callId: 'call-1', members: ['alice', 'bob'], autoRecord: true });
    expect(await stub.act({ ...bob, userId: 'carol' }, { type: 'room.join', roomId: 'room-c' })).toMatchObject({ ok: false, code: 'forbidden' });
    await stub.close();
    expect(await stub.act(bob, { type: 'room.join', roomId: 'room-c' })).toMatchObject({ ok: false, code: 'invalid_state', message: 'the call has ended' });
  });
});
