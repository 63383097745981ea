/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateReport, type QualityReport } from '@callstack/protocol';
import { QUALITY_REPORT_INTERVAL_MS } from '../quality.ts';
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

test('the edge’s rating of this room lands in the state; other scopes are ignored; none after leaving', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const signaling = new FakeSignaling();
  const conference = new Conference(roomId, { signaling, iceServers: async () => [], iceTransportPolicy: () => 'all' });
  let changes = 0;
  conference.on('change', () => changes++);
  // No transports yet: sampling finds nothing to report.
  t.mock.timers.tick(QUALITY_REPORT_INTERVAL_MS * 2);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(signaling.sent.length, 0);

  const report: QualityReport = {
    type: 'quality.report',
    ref: 'q1',
    scope: { kind: 'room', roomId },
    rttMs: 2,
    jitterMs: 1,
    lossPercent: 0,
    codec: 'opus',
    intervalMs: 5_000,
  };
  signaling.push('quality', rateReport({ ...report, scope: { kind: 'room', roomId: 'another-room' } }));
  signaling.push('quality', rateReport({ ...report, scope: { kind: 'call', callId: roomId } }));
  assert.equal(conference.state.quality, null);
  assert.equal(changes, 0);

  const rated = rateReport(report);
  signaling.push('quality', rated);
  assert.equal(conference.state.quality, rated);
  assert.equal(changes, 1);

  await conference.leave();
  signaling.push('quality', rateReport({ ...report, lossPercent: 20 }));
  assert.equal(conference.state.quality, rated);
});

test('recording requests go out by ref; a refusal is the room’s notice until a request succeeds', async () => {
  const signaling = new FakeSignaling();
  const conference = new Conference(roomId, { signaling, iceServers: async () => [], iceTransportPolicy: () => 'all' });
  const refused = conference.setRecording(true);
  const start = signaling.last();
  assert.deepEqual({ ...start, ref: undefined }, { type: 'room.recording.start', roomId, ref: undefined });
  signaling.push('error', { type: 'error', ref: start.ref!, code: 'forbidden', message: 'only the room creator or an operator/admin may record this room' });
  await refused;
  assert.equal(conference.state.notice, 'Only the room creator or an operator/admin may record this room.');

  const stopped = conference.setRecording(false);
  const stop = signaling.last();
  assert.equal(stop.type, 'room.recording.stop');
  signaling.push('ack', { type: 'ack', ref: stop.ref! });
  await stopped;
  assert.equal(conference.state.notice, null);
  conference.dispose();
});
