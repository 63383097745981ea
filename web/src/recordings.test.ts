/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientMessage } from '@callstack/protocol';
import { formatBytes, recordingLabel, setRecording } from './recordings.ts';

test('setRecording sends start and stop for the room with a ref', () => {
  const sent: ClientMessage[] = [];
  const signaling = { send: (message: ClientMessage) => sent.push(message) > 0 };
  assert.equal(setRecording(signaling, 'room-1', true, 'r1'), true);
  assert.equal(setRecording(signaling, 'room-1', false, 'r2'), true);
  assert.deepEqual(sent, [
    { type: 'room.recording.start', ref: 'r1', roomId: 'room-1' },
    { type: 'room.recording.stop', ref: 'r2', roomId: 'room-1' },
  ]);
});

test('the indicator names who started it and for how long', () => {
  const recording = { recordingId: 'x', startedBy: { userId: 'u', displayName: 'Ada' }, startedAt: 1_000 };
  assert.equal(recordingLabel(recording, 66_000), 'Recording 1:05 · started by Ada');
});

test('sizes read in decimal units', () => {
  assert.deepEqual([12, 1_000, 820_400, 1_400_000, 25_000_000_000].map(formatBytes), ['12 B', '1.0 KB', '820 KB', '1.4 MB', '25 GB']);
});
