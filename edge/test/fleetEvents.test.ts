import { CONTROL_SIGNATURE_HEADER, MEDIA_EVENTS_PATH, signControlRequest, type MediaNodeEvent } from '@callstack/protocol';
import { env, runInDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Room } from '../src/rooms/Room.ts';

const NODE_ID = 'node-a';
const NONCE = '1'.repeat(32);

/** A room placed on NODE_ID with nobody in it, as the Room object stores it. */
async function placedRoom(): Promise<{ roomId: string; stub: DurableObjectStub<Room> }> {
  const id = env.ROOM.newUniqueId();
  const stub = env.ROOM.get(id);
  await runInDurableObject(stub, async (_room, state) => {
    await state.storage.put('room', {
      tenantId: 'tenant-a',
      roomId: 'room-a',
      createdBy: 'user-a',
      createdAt: Date.now(),
      activeAt: Date.now(),
      node: { nodeId: NODE_ID, controlUrl: 'http://127.0.0.1:9', placedAt: Date.now(), rtpCapabilities: { codecs: [], headerExtensions: [] } },
      participants: [],
      producers: [],
    });
  });
  return { roomId: id.toString(), stub };
}

async function post(body: string, signature: string): Promise<Response> {
  return SELF.fetch(`https://edge.test${MEDIA_EVENTS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signature },
    body,
  });
}

const sign = (body: string, nonce?: string) => signControlRequest(env.MEDIA_CONTROL_SECRET!, { method: 'POST', path: MEDIA_EVENTS_PATH, body }, { nonce });

describe('node events', () => {
  it('applies an event once and refuses the same signed request again (409 conflict)', async () => {
    const { roomId } = await placedRoom();
    const event: MediaNodeEvent = { type: 'speaker.changed', nodeId: NODE_ID, at: Date.now(), roomId, peerId: null, producerId: null };
    const body = JSON.stringify(event);
    const signature = await sign(body);
    expect((await post(body, signature)).status).toBe(204);
    const replay = await post(body, signature);
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: { code: 'conflict' } });
    // The same event freshly signed (the node's retry) is a new request.
    expect((await post(body, await sign(body))).status).toBe(204);
  });

  it('keeps nonces only for rooms the event concerns, and forgets them after the signature window', async () => {
    const { roomId, stub } = await placedRoom();
    const foreign = JSON.stringify({ type: 'room.empty', nodeId: 'node-b', at: Date.now(), roomId } satisfies MediaNodeEvent);
    expect((await post(foreign, await sign(foreign, 'f'.repeat(32)))).status).toBe(204);
    const body = JSON.stringify({ type: 'room.empty', nodeId: NODE_ID, at: Date.now(), roomId } satisfies MediaNodeEvent);
    expect((await post(body, await sign(body, NONCE))).status).toBe(204);
    const stored = await runInDurableObject(stub, async (_room, state) => [...(await state.storage.list({ prefix: 'nonce:' })).keys()]);
    expect(stored).toEqual([`nonce:${NONCE}`]);
    await runInDurableObject(stub, async (room, state) => {
      await state.storage.put(`nonce:${NONCE}`, Date.now() - 1);
      await room.alarm();
      expect(await state.storage.get(`nonce:${NONCE}`)).toBeUndefined();
    });
  });

  it('rejects a bad signature before any room sees the event', async () => {
    const { roomId } = await placedRoom();
    const body = JSON.stringify({ type: 'room.empty', nodeId: NODE_ID, at: Date.now(), roomId } satisfies MediaNodeEvent);
    const forged = (await sign(body)).replace(/v1=[0-9a-f]{4}/, 'v1=0000');
    expect((await post(body, forged)).status).toBe(401);
  });
});
