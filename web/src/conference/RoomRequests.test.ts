/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomRequestError } from './errors.ts';
import { RoomRequests } from './RoomRequests.ts';
import { FakeSignaling } from './testSignaling.ts';

const roomId = 'room-1';

test('requests resolve with their reply or ack, reject with the typed error, time out, and fail when offline', async () => {
  const signaling = new FakeSignaling();
  const requests = new RoomRequests(signaling, 50);

  const created = requests.send({ type: 'room.create' }, 'room.created');
  const ref = signaling.last().ref!;
  assert.match(ref, /^room-/, 'never mistaken for a call request');
  signaling.push('room', { type: 'room.created', ref, roomId: 'new-room' });
  assert.equal((await created).roomId, 'new-room');

  const paused = requests.send({ type: 'room.consumer.pause', roomId, consumerId: crypto.randomUUID() }, 'ack');
  signaling.push('ack', { type: 'ack', ref: signaling.last().ref! });
  assert.equal((await paused).type, 'ack');

  const joining = requests.send({ type: 'room.join', roomId }, 'room.joined');
  signaling.push('error', { type: 'error', ref: signaling.last().ref!, code: 'not_found', message: 'no such room' });
  await assert.rejects(joining, (error: unknown) => error instanceof RoomRequestError && error.code === 'not_found');

  await assert.rejects(requests.send({ type: 'room.leave', roomId }, 'ack'), (error: unknown) => error instanceof RoomRequestError && error.code === 'timeout');

  const dropped = requests.send({ type: 'room.leave', roomId }, 'ack');
  signaling.push('status', 'connecting');
  await assert.rejects(dropped, (error: unknown) => error instanceof RoomRequestError && error.code === 'offline');
  signaling.status = 'connecting';
  await assert.rejects(requests.send({ type: 'room.leave', roomId }, 'ack'), (error: unknown) => error instanceof RoomRequestError && error.code === 'offline');
  requests.dispose();
});
