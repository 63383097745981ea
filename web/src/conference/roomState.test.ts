/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoomProducerInfo } from '@callstack/protocol';
import type { RoomMessage } from '../signaling.ts';
import { initialConference, roomReducer } from './roomState.ts';

const roomId = 'room-1';
const me = 'peer-me';
const producer = (peerId: string, source: RoomProducerInfo['source'], n: number): RoomProducerInfo => ({
  producerId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  peerId,
  kind: source === 'mic' ? 'audio' : 'video',
  source,
  paused: false,
});

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
  assert.equal(
    roomReducer(state, { type: 'room.producer.new', roomId, producer: producer(me, 'camera', 3) }),
    state,
    'our own producer is not media to consume',
  );
  state = roomReducer(state, { type: 'room.producer.paused', roomId, producerId: producer('p1', 'mic', 1).producerId, peerId: 'p1', paused: true });
  assert.equal(state.media.find((m) => m.peerId === 'p1')!.paused, true);

  state = roomReducer(state, { type: 'room.speaker', roomId, peerId: 'p2' });
  assert.equal(state.speakerId, 'p2');
  assert.equal(roomReducer(state, { type: 'room.speaker', roomId, peerId: null }), state, 'a silence keeps the last speaker');

  const other: RoomMessage = { type: 'room.participant.left', roomId: 'another-room', peerId: 'p2' };
  assert.equal(roomReducer(state, other), state);
  state = roomReducer(state, { type: 'room.participant.left', roomId, peerId: 'p2' });
  assert.deepEqual(
    state.participants.map((p) => p.peerId),
    ['p1'],
  );
  assert.equal(
    state.media.some((m) => m.peerId === 'p2'),
    false,
    'their producers go with them',
  );
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
