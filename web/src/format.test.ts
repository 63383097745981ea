/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleCall } from './call.ts';
import type { EndReason } from '@callstack/protocol';
import { callStatusLabel, endReasonLabel, formatDuration, outcomeNotice } from './format.ts';

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

test('a finished call says how it ended and offers what fits: call again, call back, or nothing', () => {
  const peer = { userId: 'bob', displayName: 'Bob Brown' };
  const outcome = (direction: 'outgoing' | 'incoming', reason: EndReason | null, error: string | null = null) =>
    outcomeNotice({ peer, direction, reason, error, durationMs: 83_000 });
  assert.deepEqual(outcome('outgoing', 'rejected'), { text: 'Bob Brown declined the call', tone: 'problem', action: 'call-again' });
  assert.deepEqual(outcome('outgoing', 'no-answer'), { text: 'No answer from Bob Brown', tone: 'problem', action: 'call-again' });
  assert.deepEqual(outcome('outgoing', 'busy'), { text: 'Bob Brown is busy on another call', tone: 'problem', action: 'call-again' });
  assert.match(outcome('outgoing', 'unavailable')!.text, /offline/);
  assert.deepEqual(outcome('outgoing', 'hangup'), { text: 'Call with Bob Brown ended · 1:23', tone: 'info', action: 'call-again' });
  assert.deepEqual(outcome('outgoing', null, 'Not connected'), { text: 'Call to Bob Brown failed: Not connected', tone: 'problem', action: 'call-again' });
  for (const missed of ['no-answer', 'cancelled', 'busy', 'unavailable'] as const)
    assert.deepEqual(outcome('incoming', missed), { text: 'Missed call from Bob Brown', tone: 'problem', action: 'call-back' }, missed);
  // The one who declined, or whose other device answered, needs no banner.
  assert.equal(outcome('incoming', 'rejected'), null);
  assert.equal(outcome('incoming', 'answered-elsewhere'), null);
  assert.equal(outcome('outgoing', 'transferred')!.action, null);
});
