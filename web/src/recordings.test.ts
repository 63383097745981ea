/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, recordingLabel } from './recordings.ts';

test('the indicator names who started it and for how long', () => {
  const recording = { recordingId: 'x', startedBy: { userId: 'u', displayName: 'Ada' }, startedAt: 1_000 };
  assert.equal(recordingLabel(recording, 66_000), 'Recording 1:05 · started by Ada');
});

test('sizes read in decimal units', () => {
  assert.deepEqual([12, 1_000, 820_400, 1_400_000, 25_000_000_000].map(formatBytes), ['12 B', '1.0 KB', '820 KB', '1.4 MB', '25 GB']);
});
