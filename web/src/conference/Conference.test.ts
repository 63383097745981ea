/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Conference } from './Conference.ts';
import { FakeSignaling } from './testSignaling.ts';

const roomId = 'room-1';

test('joining a room that does not exist fails with its message, and a join while offline waits for the next connection', async () => {
  const signaling = new FakeSignaling();
  const noMedia = () => Promise.reject(new DOMException('no devices', 'NotFoundError'));
  const options = { signaling, iceServers: async () => [], iceTransportPolicy: () => 'all' as const, getUserMedia: noMedia };

  const missing = new Conference(roomId, options);
  const joining = missing.join();
  await new Promise((resolve) => setImmediate(resolve));
  const join = signaling.last();
  assert.equal(join.type, 'room.join');
  signaling.push('error', { type: 'error', ref: join.ref!, code: 'not_found', message: 'no such room' });
  await joining;
  assert.equal(missing.state.phase, 'failed');
  assert.match(missing.state.error!, /does not exist/);
  assert.match(missing.state.notice!, /unavailable/, 'no camera or microphone is said, not fatal');
  missing.dispose();

  signaling.status = 'connecting';
  const offline = new Conference(roomId, options);
  await offline.join();
  assert.equal(offline.state.phase, 'reconnecting');
  signaling.status = 'online';
  const before = signaling.sent.length;
  signaling.push('hello', { type: 'hello', userId: 'u', deviceId: 'd', activeCalls: [] });
  assert.equal(signaling.sent.length, before + 1);
  assert.equal(signaling.last().type, 'room.join', 'joins again once connected');
  await offline.leave();
  assert.equal(offline.state.phase, 'left');
});
