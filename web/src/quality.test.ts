import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter, parseClientMessage, rateReport, type ClientMessage, type QualityReport } from '@callstack/protocol';
import {
  CHROMIUM_RECEIVER_AT_3S,
  CHROMIUM_RECEIVER_AT_8S,
  CHROMIUM_SENDER_RTCP,
  MEDIASOUP_RECV_AT_0S,
  MEDIASOUP_RECV_AT_5S,
  MEDIASOUP_SEND_AT_0S,
  MEDIASOUP_SEND_AT_5S,
} from './quality.fixtures.ts';
import { QualityMonitor, qualityLevel, summariseStats, warningTexts, type StatsEntry } from './quality.ts';
import type { SignalingEvents } from './signaling.ts';

const AT_3S = 1_000_000;
const AT_8S = AT_3S + 5_002;
const AUDIO = 'IT01A1590473827';

/** The recorded sample with some fields of one entry replaced. */
function edited(entries: StatsEntry[], id: string, change: Record<string, unknown>): StatsEntry[] {
  return entries.map((entry) => (entry.id === id ? { ...entry, ...change } : entry));
}

const without = (entries: StatsEntry[], ...types: string[]) => entries.filter((entry) => !types.includes(entry.type));

test('the first sample is only the baseline: no deltas, no report', () => {
  const { summary, snapshot } = summariseStats([CHROMIUM_RECEIVER_AT_3S], null, AT_3S);
  assert.equal(summary, null);
  assert.deepEqual(snapshot.inbound[`0/${AUDIO}`], { packetsReceived: 149, packetsLost: 0, bytesReceived: 7204 });
});

test('a loopback call from Chromium: RTT of the selected pair, opus, no loss, the received video', () => {
  const { snapshot } = summariseStats([CHROMIUM_RECEIVER_AT_3S], null, AT_3S);
  const { summary } = summariseStats([CHROMIUM_RECEIVER_AT_8S], snapshot, AT_8S);
  assert.ok(summary);
  assert.equal(summary.rttMs, 1); // the nominated pair's currentRoundTripTime, 0.001 s
  assert.equal(summary.jitterMs, 0);
  assert.equal(summary.lossPercent, 0);
  assert.equal(summary.codec, 'opus');
  assert.equal(summary.intervalMs, 5_002);
  assert.deepEqual(summary.video, { bitrateKbps: ((478_810 - 171_573) * 8) / 5_002, framesPerSecond: 20, width: 640, height: 480 });
  // What the monitor sends is a valid protocol message.
  const report = { type: 'quality.report', ref: 'q1', scope: { kind: 'call', callId: 'c-1' }, ...summary };
  assert.equal(parseClientMessage(JSON.stringify(report)).ok, true);
});

test('loss and jitter come from the audio received since the previous sample', () => {
  const before = edited(CHROMIUM_RECEIVER_AT_3S, AUDIO, { packetsLost: 3 });
  const after = edited(CHROMIUM_RECEIVER_AT_8S, AUDIO, { packetsLost: 8, jitter: 0.0425 });
  const { snapshot } = summariseStats([before], null, AT_3S);
  const { summary } = summariseStats([after], snapshot, AT_8S);
  // 250 packets received and 5 lost in the interval (not the 8 lost since the start).
  assert.equal(summary?.lossPercent, (100 * 5) / 255);
  assert.equal(summary?.jitterMs, 42.5);
  // Late packets can lower the cumulative count: never negative loss.
  const recovered = summariseStats([edited(CHROMIUM_RECEIVER_AT_8S, AUDIO, { packetsLost: 1 })], snapshot, AT_8S);
  assert.equal(recovered.summary?.lossPercent, 0);
});

test('without a selected pair, RTT comes from RTCP; a conference merges its transports (worst RTT)', () => {
  const receiveOnly = without(CHROMIUM_RECEIVER_AT_8S, 'transport', 'candidate-pair');
  const { snapshot } = summariseStats([without(CHROMIUM_RECEIVER_AT_3S, 'transport', 'candidate-pair'), CHROMIUM_SENDER_RTCP], null, AT_3S);
  const { summary } = summariseStats([receiveOnly, CHROMIUM_SENDER_RTCP], snapshot, AT_8S);
  // The audio's remote-inbound-rtp roundTripTime (0.001068 s), the larger of the two.
  assert.ok(Math.abs((summary?.rttMs ?? 0) - 1.068) < 1e-9, String(summary?.rttMs));
  // With neither, nothing is rated.
  assert.equal(summariseStats([receiveOnly], snapshot, AT_8S).summary, null);
});

// The meeting recording: a participant's [send, recv] mediasoup-client transports, 5.1 s apart.
const MEETING_AT_5S = AT_3S + 5_101;
const [PEER_1, PEER_2] = ['IT01A422710802', 'IT01A894758266'];
const meeting = (recv: StatsEntry[]) => {
  const { snapshot } = summariseStats([MEDIASOUP_SEND_AT_0S, MEDIASOUP_RECV_AT_0S], null, AT_3S);
  return summariseStats([MEDIASOUP_SEND_AT_5S, recv], snapshot, MEETING_AT_5S).summary;
};

test('a meeting’s transports: RTT of the selected pairs, jitter weighted by each peer’s packets, the video without the probator', () => {
  const summary = meeting(MEDIASOUP_RECV_AT_5S);
  assert.ok(summary);
  assert.equal(summary.rttMs, 3); // both transports' selected pairs, 0.003 s
  assert.equal(summary.lossPercent, 0);
  assert.equal(summary.codec, 'opus');
  assert.equal(summary.intervalMs, 5_101);
  // Peer 1: 256 packets at 3 ms, peer 2: 257 packets at 6 ms.
  assert.ok(Math.abs(summary.jitterMs - (256 * 3 + 257 * 6) / 513) < 1e-9, String(summary.jitterMs));
  // Both cameras (one new since the first sample), not mediasoup's 10,912 bytes of probation padding.
  assert.deepEqual(summary.video, { bitrateKbps: ((31_888 + 78_633 - 6_191) * 8) / 5_101, framesPerSecond: 4, width: 480, height: 270 });
  const report = { type: 'quality.report', ref: 'q1', scope: { kind: 'room', roomId: 'r-1' }, ...summary };
  assert.equal(parseClientMessage(JSON.stringify(report)).ok, true);
});

test('a meeting: loss pools all peers’ audio; a silent peer’s few packets weigh little, a muted peer’s stale jitter nothing', () => {
  // Peer 1 lost 4 packets: 4 of 517 over both streams.
  assert.equal(meeting(edited(MEDIASOUP_RECV_AT_5S, PEER_1, { packetsLost: 4 }))?.lossPercent, (100 * 4) / 517);
  // Peer 2 silent (opus DTX): 12 packets at 50 ms jitter against peer 1's 256 at 3 ms.
  const silent = edited(MEDIASOUP_RECV_AT_5S, PEER_2, { packetsReceived: 106 + 12, jitter: 0.05 });
  assert.ok(Math.abs((meeting(silent)?.jitterMs ?? 0) - (256 * 3 + 12 * 50) / 268) < 1e-9);
  // Peer 2 muted: no packets since the first sample, its last jitter left over.
  assert.equal(meeting(edited(MEDIASOUP_RECV_AT_5S, PEER_2, { packetsReceived: 106, jitter: 0.2 }))?.jitterMs, 3);
});

test('no audio received in the interval: nothing to rate', () => {
  const { snapshot } = summariseStats([CHROMIUM_RECEIVER_AT_8S], null, AT_3S);
  assert.equal(summariseStats([CHROMIUM_RECEIVER_AT_8S], snapshot, AT_8S).summary, null);
  assert.equal(summariseStats([without(CHROMIUM_RECEIVER_AT_8S, 'inbound-rtp')], snapshot, AT_8S).summary, null);
});

test('an unknown codec and an interval outside the protocol range are reported within it', () => {
  const g729 = CHROMIUM_RECEIVER_AT_8S.map((entry) =>
    entry.type === 'codec' && entry.mimeType === 'audio/opus' ? { ...entry, mimeType: 'audio/G729' } : entry,
  );
  const { snapshot } = summariseStats([CHROMIUM_RECEIVER_AT_3S], null, AT_3S);
  const { summary } = summariseStats([g729], snapshot, AT_3S + 120_000);
  assert.equal(summary?.codec, 'unknown');
  assert.equal(summary?.intervalMs, 60_000);
});

test('warnings name the figure past its threshold; the level follows the MOS', () => {
  const base: QualityReport = {
    type: 'quality.report',
    scope: { kind: 'call', callId: 'c' },
    rttMs: 520,
    jitterMs: 45.4,
    lossPercent: 3.25,
    codec: 'opus',
    intervalMs: 5_000,
  };
  const rated = rateReport(base);
  assert.deepEqual(warningTexts(rated), ['High latency 520 ms', 'High jitter 45 ms', 'Packet loss 3.3 %', `Poor audio quality (MOS ${rated.mos.toFixed(1)})`]);
  assert.deepEqual(warningTexts(rateReport({ ...base, rttMs: 1, jitterMs: 0, lossPercent: 0 })), []);
  assert.equal(qualityLevel(4.41).level, 'excellent');
  assert.equal(qualityLevel(3.7).level, 'good');
  assert.equal(qualityLevel(3.2).level, 'fair');
  assert.equal(qualityLevel(2.1).level, 'poor');
});

class FakeSignaling extends Emitter<SignalingEvents> {
  sent: ClientMessage[] = [];
  send(message: ClientMessage): boolean {
    this.sent.push(message);
    return true;
  }
  deliver<K extends keyof SignalingEvents>(event: K, ...args: SignalingEvents[K]): void {
    this.emit(event, ...args);
  }
}

test('the monitor samples every interval, reports, and keeps the edge’s rating of its own scope', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const signaling = new FakeSignaling();
  const samples = [CHROMIUM_RECEIVER_AT_3S, CHROMIUM_RECEIVER_AT_8S];
  const times = [AT_3S, AT_8S];
  const source = { getStats: () => Promise.resolve(new Map((samples.shift() ?? []).map((entry) => [entry.id, entry])) as unknown as RTCStatsReport) };
  const monitor = new QualityMonitor({ signaling, scope: { kind: 'call', callId: 'c-1' }, sources: () => [source], now: () => times.shift() ?? 0 });
  const updates: number[] = [];
  monitor.on('update', (update) => updates.push(update.mos));
  await Promise.resolve();
  assert.equal(signaling.sent.length, 0); // the baseline
  t.mock.timers.tick(5_000);
  await new Promise((resolve) => setImmediate(resolve));
  const [report] = signaling.sent;
  assert.equal(report?.type, 'quality.report');
  if (report?.type !== 'quality.report') return;
  assert.deepEqual(report.scope, { kind: 'call', callId: 'c-1' });
  assert.equal(report.rttMs, 1);

  signaling.deliver('quality', { ...rateReport({ ...report, scope: { kind: 'call', callId: 'other' } }) });
  assert.equal(monitor.latest, null);
  const rated = rateReport(report);
  signaling.deliver('quality', rated);
  assert.equal(monitor.latest, rated);
  assert.deepEqual(updates, [rated.mos]);

  monitor.stop();
  signaling.deliver('quality', rateReport({ ...report, lossPercent: 20 }));
  assert.equal(monitor.latest, rated);
  t.mock.timers.tick(10_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(signaling.sent.length, 1);
});
