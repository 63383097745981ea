import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mos, mosOfR, qualityWarnings, rFactor, type LinkStats } from './quality.ts';

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
