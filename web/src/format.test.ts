/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleCall } from './call.ts';
import { callStatusLabel, endReasonLabel, formatDuration } from './format.ts';

test('durations read m:ss, mm:ss for the running timer, h:mm:ss past an hour', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(83_400), '1:23');
  assert.equal(formatDuration(83_400, true), '01:23');
  assert.equal(formatDuration(3_723_000), '1:02:03');
  assert.equal(formatDuration(-500, true), '00:00');
});

test('ended calls are labelled by reason, a hang-up with its duration', () => {
  assert.equal(callStatusLabel({ ...idleCall, phase: 'ended', reason: 'hangup', durationMs: 83_000 }), 'Call ended · 1:23');
  assert.equal(callStatusLabel({ ...idleCall, phase: 'ended', reason: 'unavailable' }), 'Unavailable (offline)');
  assert.equal(callStatusLabel({ ...idleCall, phase: 'ended', reason: 'answered-elsewhere' }), 'Answered on another device');
  assert.equal(callStatusLabel({ ...idleCall, phase: 'failed', error: 'User not found' }), 'User not found');
  assert.equal(callStatusLabel({ ...idleCall, phase: 'ringing' }), 'Ringing…');
});

test('unknown end reasons from call records are shown verbatim', () => {
  assert.equal(endReasonLabel('rejected'), 'Declined');
  assert.equal(endReasonLabel('something-new'), 'something-new');
});
