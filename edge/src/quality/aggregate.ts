/**
 * Per-participant call quality, folded report by report into running sums (never the samples
 * themselves), so a call or room stay of any length costs a few numbers of durable storage.
 * CallSession and Room keep one per participant and write `summarise` into the CDR.
 */
import { ErrorCode, QUALITY_REPORT_MIN_INTERVAL_MS, type CallQualityView, type Codec, type QualityReport, type QualityUpdate } from '@callstack/protocol';
import { failure, type Outcome } from '../objects/actor.ts';

export interface QualityAggregate {
  samples: number;
  /** Sum of the reports' `intervalMs`: the weight of the averages. */
  weightMs: number;
  mosMin: number;
  mosSum: number;
  lossSum: number;
  lossMax: number;
  jitterSum: number;
  rttSum: number;
  codec: Codec;
  /** When the last accepted report arrived (rate limit). */
  lastAt: number;
}

/**
 * Folds a rated report into the aggregate (none yet: `undefined`). Refuses, with `rate_limited`,
 * a report less than QUALITY_REPORT_MIN_INTERVAL_MS after the previous accepted one.
 */
export function addReport(
  previous: QualityAggregate | undefined,
  report: QualityReport,
  rated: QualityUpdate,
  now: number,
): Outcome<{ aggregate: QualityAggregate }> {
  if (previous && now - previous.lastAt < QUALITY_REPORT_MIN_INTERVAL_MS) {
    return failure(ErrorCode.rateLimited, `at most one quality report per ${QUALITY_REPORT_MIN_INTERVAL_MS / 1000} s`);
  }
  const base = previous ?? { samples: 0, weightMs: 0, mosMin: Infinity, mosSum: 0, lossSum: 0, lossMax: 0, jitterSum: 0, rttSum: 0 };
  const w = report.intervalMs;
  return {
    ok: true,
    aggregate: {
      samples: base.samples + 1,
      weightMs: base.weightMs + w,
      mosMin: Math.min(base.mosMin, rated.mos),
      mosSum: base.mosSum + rated.mos * w,
      lossSum: base.lossSum + report.lossPercent * w,
      lossMax: Math.max(base.lossMax, report.lossPercent),
      jitterSum: base.jitterSum + report.jitterMs * w,
      rttSum: base.rttSum + report.rttMs * w,
      codec: report.codec,
      lastAt: now,
    },
  };
}

/** The CDR's figures: minimum and time-weighted averages. */
export function summarise(aggregate: QualityAggregate): CallQualityView {
  const w = aggregate.weightMs;
  return {
    samples: aggregate.samples,
    mosMin: aggregate.mosMin,
    mosAvg: aggregate.mosSum / w,
    lossAvg: aggregate.lossSum / w,
    lossMax: aggregate.lossMax,
    jitterAvg: aggregate.jitterSum / w,
    rttAvg: aggregate.rttSum / w,
    codec: aggregate.codec,
  };
}
