/**
 * Call quality: the ITU-T G.107 E-model turned into a MOS, and the thresholds past which the UI
 * warns. Shared so the browser's live indicator and the edge's CDR figures agree.
 *
 * R = R0 − Is − Id − Ie,eff + A with G.107's defaults for the parts WebRTC does not change
 * (R0 − Is = 93.2, A = 0, echo cancelled so only the pure-delay term Idd of Id matters):
 * - Idd from the one-way mouth-to-ear delay Ta: network (RTT/2) + jitter buffer (≈ 2 × jitter)
 *   + codec framing and look-ahead;
 * - Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl) from random packet loss (BurstR = 1);
 * - MOS = 1 + 0.035 R + R (R − 60)(100 − R) · 7·10⁻⁶, clamped to [1, 4.5].
 * Codec constants (Ie, Bpl) come from ITU-T G.113 Appendix I. G.113 has no entry for Opus; it is
 * rated as G.711 with packet-loss concealment, which understates Opus's robustness a little, so
 * the MOS errs on the side of warning.
 */
import * as v from 'valibot';
import { Ref } from './frames.ts';
import { Id } from './ids.ts';

export const Codec = v.picklist(['opus', 'pcmu', 'pcma', 'g722', 'unknown']);
export type Codec = v.InferOutput<typeof Codec>;

interface CodecImpairment {
  /** Equipment impairment without loss. */
  ie: number;
  /** Packet-loss robustness. */
  bpl: number;
  /** Framing plus look-ahead, in milliseconds. */
  delayMs: number;
}

const G711_PLC: CodecImpairment = { ie: 0, bpl: 25.1, delayMs: 20 };

const CODECS: Record<Codec, CodecImpairment> = {
  opus: { ...G711_PLC, delayMs: 26.5 },
  pcmu: G711_PLC,
  pcma: G711_PLC,
  g722: { ie: 0, bpl: 25.1, delayMs: 21.5 },
  unknown: G711_PLC,
};

export interface LinkStats {
  /** Round-trip time of the media path. */
  rttMs: number;
  /** Interarrival jitter of received audio. */
  jitterMs: number;
  /** Share of audio packets lost, 0-100. */
  lossPercent: number;
  codec: Codec;
}

/** The transmission rating factor R (0-100). */
export function rFactor(stats: LinkStats): number {
  const codec = CODECS[stats.codec];
  const oneWayDelay = Math.max(0, stats.rttMs) / 2 + 2 * Math.max(0, stats.jitterMs) + codec.delayMs;
  const loss = Math.min(100, Math.max(0, stats.lossPercent));
  const ieEff = codec.ie + ((95 - codec.ie) * loss) / (loss + codec.bpl);
  return 93.2 - delayImpairment(oneWayDelay) - ieEff;
}

/** Mean opinion score, 1 (bad) to 4.5 (the best a telephone-band call can rate). */
export function mos(stats: LinkStats): number {
  return mosOfR(rFactor(stats));
}

export function mosOfR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return Math.min(4.5, Math.max(1, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6));
}

/** G.107 Idd: no impairment up to 100 ms one way, rising steeply past about 250 ms. */
function delayImpairment(ta: number): number {
  if (ta <= 100) return 0;
  const x = Math.log10(ta / 100) / Math.log10(2);
  return 25 * ((1 + x ** 6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2);
}

/** Past these a call is audibly degraded: the UI warns, and the admin console flags the CDR. */
export const QUALITY_THRESHOLDS = { rttMs: 400, jitterMs: 30, lossPercent: 1, mos: 3.5 } as const;

const QualityWarningSchema = v.picklist(['rtt', 'jitter', 'loss', 'mos']);
export type QualityWarning = v.InferOutput<typeof QualityWarningSchema>;

export function qualityWarnings(stats: LinkStats, score = mos(stats)): QualityWarning[] {
  const warnings: QualityWarning[] = [];
  if (stats.rttMs > QUALITY_THRESHOLDS.rttMs) warnings.push('rtt');
  if (stats.jitterMs > QUALITY_THRESHOLDS.jitterMs) warnings.push('jitter');
  if (stats.lossPercent > QUALITY_THRESHOLDS.lossPercent) warnings.push('loss');
  if (score < QUALITY_THRESHOLDS.mos) warnings.push('mos');
  return warnings;
}

// ---- on the signaling socket ----------------------------------------------------------------

/**
 * What a report is about: a 1:1 call (only its two parties while it is up) or a conference room
 * (only a participant). The edge keeps per-participant aggregates there and writes them to the
 * CDR (`call_quality`, `room_sessions`).
 */
export const QualityScope = v.variant('kind', [v.object({ kind: v.literal('call'), callId: Id }), v.object({ kind: v.literal('room'), roomId: Id })]);
export type QualityScope = v.InferOutput<typeof QualityScope>;

const bounded = (max: number) => v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(max));
const count = (max: number) => v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(max));

/** Browsers report about every 5 s; the edge accepts one report per 2 s per participant. */
export const QUALITY_REPORT_MIN_INTERVAL_MS = 2_000;

/**
 * A browser's `getStats()` summary of the audio it received since its previous report. Ranges are
 * wider than any real link (a minute of RTT is not a call) but exclude nonsense: negative, NaN,
 * loss above 100 %.
 */
export const QualityReport = v.object({
  type: v.literal('quality.report'),
  ref: Ref,
  scope: QualityScope,
  rttMs: bounded(60_000),
  jitterMs: bounded(10_000),
  lossPercent: bounded(100),
  codec: Codec,
  /** How long the report covers; it weighs the report in the averages. */
  intervalMs: v.pipe(v.number(), v.integer(), v.minValue(1_000), v.maxValue(60_000)),
  /** Received video, when there is any (informational: the MOS rates the audio). */
  video: v.optional(
    v.object({
      bitrateKbps: bounded(100_000),
      framesPerSecond: bounded(240),
      width: count(16_384),
      height: count(16_384),
    }),
  ),
});
export type QualityReport = v.InferOutput<typeof QualityReport>;

/** The edge's rating of one report, answered to the reporting device (in place of `ack`). */
export const QualityUpdate = v.object({
  type: v.literal('quality.update'),
  ref: Ref,
  scope: QualityScope,
  mos: v.number(),
  rFactor: v.number(),
  warnings: v.array(QualityWarningSchema),
  /** The figures rated, so the UI can name what is wrong ("High latency 520 ms"). */
  stats: v.object({ rttMs: v.number(), jitterMs: v.number(), lossPercent: v.number(), codec: Codec }),
});
export type QualityUpdate = v.InferOutput<typeof QualityUpdate>;

/** The edge's answer to a report: the same figures the CDR will aggregate. */
export function rateReport(report: QualityReport): QualityUpdate {
  const stats: LinkStats = { rttMs: report.rttMs, jitterMs: report.jitterMs, lossPercent: report.lossPercent, codec: report.codec };
  const r = rFactor(stats);
  const score = mosOfR(r);
  return { type: 'quality.update', ref: report.ref, scope: report.scope, mos: score, rFactor: r, warnings: qualityWarnings(stats, score), stats };
}
