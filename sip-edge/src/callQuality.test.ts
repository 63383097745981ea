import { QualityReport } from '@callstack/protocol';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { qualityReportOf } from './callQuality.ts';

/** The parts of a real rtpengine 10.5 `query` answer (a baresip phone and Chromium, on loopback) that the report reads. */
const QUERY = {
  result: 'ok',
  SSRC: {
    '2139960632': {
      'average MOS': { MOS: 44, 'round-trip time': 3842, 'round-trip time leg': 3522, jitter: 1, 'packet loss': 0, samples: 1 },
      'MOS progression': { interval: 0, entries: [{ MOS: 44, 'round-trip time': 3842, jitter: 1, 'packet loss': 0, 'reported at': 1796191650 }] },
    },
  },
  tags: {
    phone: { medias: [{ type: 'audio', protocol: 'RTP/AVP', codec: 'PCMU/8000', streams: [{ SSRC: 4247217764 }, { SSRC: 4247217764 }] }] },
    browser: { medias: [{ type: 'audio', protocol: 'UDP/TLS/RTP/SAVPF', codec: 'PCMU/8000', streams: [{ SSRC: 2139960632 }] }] },
  },
};
const OPTIONS = { callId: 'call-1', phoneTag: 'phone', browserTag: 'browser', intervalMs: 5_000 };

test("the phone's receiver report about the browser's stream becomes a quality report the edge accepts", () => {
  const report = qualityReportOf(QUERY, OPTIONS);
  assert.ok(report);
  assert.deepEqual(v.parse(QualityReport, report), report);
  assert.deepEqual(
    {
      scope: report.scope,
      rttMs: report.rttMs,
      jitterMs: report.jitterMs,
      lossPercent: report.lossPercent,
      codec: report.codec,
      intervalMs: report.intervalMs,
    },
    { scope: { kind: 'call', callId: 'call-1' }, rttMs: 3.842, jitterMs: 1, lossPercent: 0, codec: 'pcmu', intervalMs: 5_000 },
  );
});

test('the latest entry of the progression counts, not the average', () => {
  const later = structuredClone(QUERY);
  later.SSRC['2139960632']['MOS progression'].entries.push({ MOS: 30, 'round-trip time': 250_000, jitter: 40, 'packet loss': 7, 'reported at': 1796191655 });
  const report = qualityReportOf(later, OPTIONS);
  assert.deepEqual([report?.rttMs, report?.jitterMs, report?.lossPercent], [250, 40, 7]);
});

test('no report before the phone sent RTCP, and nonsense is clamped into range', () => {
  assert.equal(qualityReportOf({ ...QUERY, SSRC: {} }, OPTIONS), null);
  assert.equal(qualityReportOf({ result: 'ok' }, OPTIONS), null);
  const wild = structuredClone(QUERY);
  wild.SSRC['2139960632']['MOS progression'].entries[0] = { MOS: 1, 'round-trip time': 1e12, jitter: -5, 'packet loss': 400, 'reported at': 0 };
  const report = qualityReportOf(wild, OPTIONS);
  assert.ok(report);
  assert.deepEqual([report.rttMs, report.jitterMs, report.lossPercent], [60_000, 0, 100]);
  assert.ok(v.safeParse(QualityReport, report).success);
});
