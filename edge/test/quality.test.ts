import { rateReport, type QualityReport } from '@callstack/protocol';
import { describe, expect, it } from 'vitest';
import { addReport, summarise, type QualityAggregate } from '../src/quality/aggregate.ts';
import { applyAction, mayReportQuality } from '../src/signaling/callState.ts';
import type { Actor } from '../src/objects/actor.ts';
import { ringingCall, T0 } from './calls.ts';

function report(change: Partial<QualityReport>): QualityReport {
  return {
    type: 'quality.report',
    scope: { kind: 'call', callId: 'call-1' },
    rttMs: 40,
    jitterMs: 5,
    lossPercent: 0,
    codec: 'opus',
    intervalMs: 5_000,
    ...change,
  };
}

function fold(reports: [QualityReport, number][]): QualityAggregate {
  let aggregate: QualityAggregate | undefined;
  for (const [r, at] of reports) {
    const added = addReport(aggregate, r, rateReport(r), at);
    if (!added.ok) throw new Error(added.message);
    aggregate = added.aggregate;
  }
  return aggregate!;
}

describe('quality aggregate', () => {
  it('keeps the minimum MOS, the worst loss and averages weighted by the time each report covers', () => {
    const good = report({ rttMs: 40, jitterMs: 4, lossPercent: 0, intervalMs: 10_000 });
    const bad = report({ rttMs: 600, jitterMs: 40, lossPercent: 4, intervalMs: 5_000, codec: 'pcmu' });
    const summary = summarise(
      fold([
        [good, T0],
        [bad, T0 + 5_000],
      ]),
    );
    expect(summary.samples).toBe(2);
    expect(summary.mosMin).toBe(rateReport(bad).mos);
    expect(summary.mosAvg).toBeCloseTo((rateReport(good).mos * 2 + rateReport(bad).mos) / 3, 12);
    expect(summary.lossAvg).toBeCloseTo(4 / 3, 12);
    expect(summary.lossMax).toBe(4);
    expect(summary.jitterAvg).toBeCloseTo((4 * 2 + 40) / 3, 12);
    expect(summary.rttAvg).toBeCloseTo((40 * 2 + 600) / 3, 12);
    expect(summary.codec).toBe('pcmu');
  });

  it('refuses a report within 2 s of the previous accepted one, and leaves the aggregate as it was', () => {
    const first = fold([[report({}), T0]]);
    const flood = addReport(first, report({ lossPercent: 50 }), rateReport(report({ lossPercent: 50 })), T0 + 1_999);
    expect(flood).toMatchObject({ ok: false, code: 'rate_limited' });
    expect(addReport(first, report({}), rateReport(report({})), T0 + 2_000).ok).toBe(true);
  });
});

describe('who may report quality on a call', () => {
  const alice: Actor = { tenantId: 't1', userId: 'alice', deviceId: 'a1' };
  const bob: Actor = { tenantId: 't1', userId: 'bob', deviceId: 'b1' };
  const ringing = ringingCall();
  const accepted = applyAction(ringing, bob, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
  if (!accepted.ok) throw new Error(accepted.message);
  const active = accepted.state;

  it('the two call devices, while the call is up', () => {
    expect(mayReportQuality(active, alice).ok).toBe(true);
    expect(mayReportQuality(active, bob).ok).toBe(true);
  });

  it('not an outsider (not_found), not before the answer, after the end or from another device (invalid_state)', () => {
    expect(mayReportQuality(active, { tenantId: 't1', userId: 'carol', deviceId: 'c1' })).toMatchObject({ ok: false, code: 'not_found' });
    expect(mayReportQuality(active, { ...bob, tenantId: 't2' })).toMatchObject({ ok: false, code: 'not_found' });
    expect(mayReportQuality(ringing, alice)).toMatchObject({ ok: false, code: 'invalid_state' });
    expect(mayReportQuality({ ...active, status: 'ended' }, alice)).toMatchObject({ ok: false, code: 'invalid_state' });
    expect(mayReportQuality(active, { ...bob, deviceId: 'b2' })).toMatchObject({ ok: false, code: 'invalid_state' });
  });
});
