import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mos, mosOfR, qualityWarnings, rateReport, rFactor, type LinkStats } from './quality.ts';
import { parseClientMessage, parseServerMessage } from './signaling.ts';

const clean: LinkStats = { rttMs: 0, jitterMs: 0, lossPercent: 0, codec: 'pcmu' };
const near = (actual: number, expected: number, tolerance = 0.01) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

test('the R-to-MOS mapping matches G.107 reference points', () => {
  near(mosOfR(93.2), 4.41);
  near(mosOfR(70), 3.6);
  near(mosOfR(50), 2.58);
  assert.equal(mosOfR(-5), 1);
  assert.equal(mosOfR(120), 4.5);
});

test('a clean link rates G.107 default R 93.2', () => {
  near(rFactor(clean), 93.2, 1e-9);
});

test('loss impairs by Ie,eff = 95 Ppl / (Ppl + Bpl)', () => {
  // 1 % with G.711 + PLC (Bpl 25.1): Ie,eff = 95 / 26.1 = 3.64
  near(rFactor({ ...clean, lossPercent: 1 }), 93.2 - 95 / 26.1, 1e-9);
  near(mos({ ...clean, lossPercent: 1 }), 4.33);
});

test('delay impairs only past 100 ms one way, per G.107 Idd', () => {
  // RTT 160 ms: 80 ms + 20 ms framing = 100 ms one way, still no impairment.
  near(rFactor({ ...clean, rttMs: 160 }), 93.2, 1e-9);
  // RTT 400 ms: Ta = 220 ms, Idd = 5.26
  near(rFactor({ ...clean, rttMs: 400 }), 93.2 - 5.26, 0.01);
  // Jitter counts twice (the jitter buffer): 40 ms of jitter costs like 160 ms more RTT.
  near(rFactor({ ...clean, jitterMs: 40, rttMs: 240 }), rFactor({ ...clean, rttMs: 400 }), 1e-9);
});

test('worse links never score better', () => {
  let previous = Infinity;
  for (const lossPercent of [0, 0.5, 1, 2, 5, 10, 20]) {
    const score = mos({ rttMs: 300, jitterMs: 20, lossPercent, codec: 'opus' });
    assert.ok(score < previous || lossPercent === 0);
    previous = score;
  }
});

test('warnings name each threshold crossed', () => {
  assert.deepEqual(qualityWarnings(clean), []);
  assert.deepEqual(qualityWarnings({ rttMs: 450, jitterMs: 35, lossPercent: 3, codec: 'opus' }), ['rtt', 'jitter', 'loss', 'mos']);
  assert.deepEqual(qualityWarnings({ ...clean, lossPercent: 1.5 }), ['loss']);
});

const report = {
  type: 'quality.report',
  ref: 'q1',
  scope: { kind: 'call', callId: 'c-1' },
  rttMs: 120,
  jitterMs: 8,
  lossPercent: 0.5,
  codec: 'opus',
  intervalMs: 5000,
};

test('a stats summary parses, with or without the video figures', () => {
  assert.equal(parseClientMessage(JSON.stringify(report)).ok, true);
  const video = { ...report, scope: { kind: 'room', roomId: 'r-1' }, video: { bitrateKbps: 900, framesPerSecond: 24.5, width: 640, height: 480 } };
  assert.equal(parseClientMessage(JSON.stringify(video)).ok, true);
});

test('out-of-range or malformed figures are refused, naming the field', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ lossPercent: 101 }, /^lossPercent: /],
    [{ lossPercent: -1 }, /^lossPercent: /],
    [{ rttMs: -5 }, /^rttMs: /],
    [{ rttMs: 120_000 }, /^rttMs: /],
    [{ jitterMs: '8' }, /^jitterMs: /],
    [{ codec: 'mp3' }, /^codec: /],
    [{ intervalMs: 10 }, /^intervalMs: /],
    [{ intervalMs: 5000.5 }, /^intervalMs: /],
    [{ scope: { kind: 'call' } }, /^scope\.callId: /],
    [{ scope: { kind: 'meeting', callId: 'c-1' } }, /^scope\.kind: /],
    [{ video: { bitrateKbps: 900, framesPerSecond: 500, width: 640, height: 480 } }, /^video\.framesPerSecond: /],
  ];
  for (const [change, field] of cases) {
    const result = parseClientMessage(JSON.stringify({ ...report, ...change }));
    assert.equal(result.ok, false, JSON.stringify(change));
    assert.match(!result.ok ? result.message : '', field);
  }
  // JSON has no NaN or Infinity; a missing figure is refused too.
  const { rttMs: _rtt, ...noRtt } = report;
  assert.equal(parseClientMessage(JSON.stringify(noRtt)).ok, false);
});

test('the edge rates a report with the E-model and echoes the figures', () => {
  const rated = rateReport({ ...report, type: 'quality.report', scope: { kind: 'call', callId: 'c-1' }, codec: 'opus', rttMs: 520, lossPercent: 2 });
  const stats = { rttMs: 520, jitterMs: 8, lossPercent: 2, codec: 'opus' } as const;
  assert.equal(rated.mos, mos(stats));
  assert.equal(rated.rFactor, rFactor(stats));
  assert.deepEqual(rated.warnings, qualityWarnings(stats));
  assert.deepEqual(rated.stats, stats);
  assert.equal(rated.ref, 'q1');
  assert.equal(parseServerMessage(JSON.stringify(rated)).ok, true);
});
