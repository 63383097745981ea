/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientMessage, RoomProducerInfo } from '@callstack/protocol';
import {
  Conference,
  initialConference,
  preferredSpatialLayer,
  roomErrorMessage,
  roomReducer,
  RoomRequestError,
  RoomRequests,
  spatialLayersOf,
  StallDetector,
  type RoomSignaling,
} from './conference.ts';
import { Emitter } from './emitter.ts';
import type { RoomMessage, SignalingEvents } from './signaling.ts';

const roomId = 'room-1';
const me = 'peer-me';
const producer = (peerId: string, source: RoomProducerInfo['source'], n: number): RoomProducerInfo => ({
  producerId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  peerId,
  kind: source === 'mic' ? 'audio' : 'video',
  source,
  paused: false,
});

/** The signaling socket as the conference sees it: what it sent, and frames pushed back. */
class FakeSignaling extends Emitter<SignalingEvents> implements RoomSignaling {
  status: RoomSignaling['status'] = 'online';
  sent: ClientMessage[] = [];
  send(message: ClientMessage): boolean {
    if (this.status !== 'online') return false;
    this.sent.push(message);
    return true;
  }
  push<K extends keyof SignalingEvents>(event: K, value: SignalingEvents[K]): void {
    this.emit(event, value);
  }
  last(): ClientMessage & { ref?: string } {
    return this.sent.at(-1)!;
  }
}

test('the reducer follows participants, producers, pauses and the speaker of its own room only', () => {
  const joined = roomReducer(initialConference(roomId), {
    type: 'room.joined',
    ref: 'x',
    roomId,
    peerId: me,
    rtpCapabilities: { codecs: [] },
    participants: [{ peerId: 'p1', userId: 'u1', displayName: 'One' }],
    producers: [producer('p1', 'mic', 1)],
  });
  assert.equal(joined.phase, 'joined');
  assert.equal(joined.media[0]!.consumerId, null);

  let state = roomReducer(joined, { type: 'room.participant.joined', roomId, participant: { peerId: 'p2', userId: 'u2', displayName: 'Two' } });
  state = roomReducer(state, { type: 'room.producer.new', roomId, producer: producer('p2', 'camera', 2) });
  assert.equal(roomReducer(state, { type: 'room.producer.new', roomId, producer: producer(me, 'camera', 3) }), state, 'our own producer is not media to consume');
  state = roomReducer(state, { type: 'room.producer.paused', roomId, producerId: producer('p1', 'mic', 1).producerId, peerId: 'p1', paused: true });
  assert.equal(state.media.find((m) => m.peerId === 'p1')!.paused, true);

  state = roomReducer(state, { type: 'room.speaker', roomId, peerId: 'p2' });
  assert.equal(state.speakerId, 'p2');
  assert.equal(roomReducer(state, { type: 'room.speaker', roomId, peerId: null }), state, 'a silence keeps the last speaker');

  const other: RoomMessage = { type: 'room.participant.left', roomId: 'another-room', peerId: 'p2' };
  assert.equal(roomReducer(state, other), state);
  state = roomReducer(state, { type: 'room.participant.left', roomId, peerId: 'p2' });
  assert.deepEqual(state.participants.map((p) => p.peerId), ['p1']);
  assert.equal(state.media.some((m) => m.peerId === 'p2'), false, 'their producers go with them');
  assert.equal(state.speakerId, null);

  state = roomReducer(state, { type: 'room.producer.closed', roomId, producerId: producer('p1', 'mic', 1).producerId, peerId: 'p1' });
  assert.equal(state.media.length, 0);
});

test('room.migrate keeps the people, drops their media (announced again) and counts the move', () => {
  let state = roomReducer(initialConference(roomId), {
    type: 'room.joined',
    roomId,
    peerId: me,
    rtpCapabilities: { codecs: [] },
    participants: [{ peerId: 'p1', userId: 'u1', displayName: 'One' }],
    producers: [producer('p1', 'camera', 1)],
  });
  state = roomReducer(state, { type: 'room.migrate', roomId, rtpCapabilities: { codecs: [] }, reason: 'node-failed' });
  assert.equal(state.phase, 'reconnecting');
  assert.equal(state.participants.length, 1);
  assert.equal(state.media.length, 0);
  assert.equal(state.migrations, 1);
});

test('a tile gets the smallest layer at least as wide as it; large tiles and screens the top', () => {
  const view = (width: number, large = false) => ({ visible: true, width, large });
  assert.equal(preferredSpatialLayer(view(200), 3, 960), 0, '240 px layer');
  assert.equal(preferredSpatialLayer(view(241), 3, 960), 1, '480 px layer');
  assert.equal(preferredSpatialLayer(view(480), 3, 960), 1);
  assert.equal(preferredSpatialLayer(view(700), 3, 960), 2);
  assert.equal(preferredSpatialLayer(view(2000), 3, 960), 2, 'nothing wider than the top');
  assert.equal(preferredSpatialLayer(view(100, true), 3, 960), 2, 'maximised');
  assert.equal(preferredSpatialLayer(view(100), 2, 960), 0, 'two layers: 480 and 960');
  assert.equal(preferredSpatialLayer(view(100), 1, 960), 0);
});

test('the number of spatial layers comes from the consumer scalability mode', () => {
  assert.equal(spatialLayersOf({ encodings: [{ scalabilityMode: 'L3T3' }] }), 3);
  assert.equal(spatialLayersOf({ encodings: [{ scalabilityMode: 'S2T1' }] }), 2);
  assert.equal(spatialLayersOf({ encodings: [{}] }), 1);
  assert.equal(spatialLayersOf({}), 1);
});

test('a busy transport that stops receiving is a stall after two samples; an idle one never', () => {
  const detector = new StallDetector();
  assert.equal(detector.sample(100, true), false);
  assert.equal(detector.sample(200, true), false);
  assert.equal(detector.sample(200, true), false, 'one flat sample');
  assert.equal(detector.sample(200, true), true, 'two flat samples');
  assert.equal(detector.sample(300, true), false, 'bytes again');

  const idle = new StallDetector();
  for (let i = 0; i < 5; i++) assert.equal(idle.sample(100, false), false, 'camera off, nothing to expect');
});

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

test('errors people read name the problem', () => {
  assert.match(roomErrorMessage(new RoomRequestError('not_found', 'no such room')), /does not exist/);
  assert.match(roomErrorMessage(new RoomRequestError('media_unavailable', 'x')), /No media server/);
  assert.equal(roomErrorMessage(new RoomRequestError('invalid_state', 'the room is full')), 'The room is full.');
  assert.match(roomErrorMessage(new Error('boom')), /went wrong/);
});

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
