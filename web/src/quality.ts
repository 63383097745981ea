/**
 * Call quality in the browser: every 5 s the `QualityMonitor` reads `getStats()` of its sources,
 * summarises what was received since the previous sample (`summariseStats`, pure) and sends a
 * `quality.report`; the edge answers `quality.update` with the E-model's MOS and the warnings,
 * which the UI shows as they are, so the screen and the CDR agree.
 *
 * A source is anything with `getStats()`: the RTCPeerConnection of a 1:1 call, or the send and
 * recv mediasoup-client transports of a conference. Their reports are merged: the worst RTT, and
 * loss and jitter over all received audio streams weighted by the packets each brought in the
 * interval. In a meeting that weighting follows whom one hears: the microphones send with opus DTX,
 * so a silent peer's stream carries a few packets a second against the speaker's 50, and a stream
 * that carried none (a muted peer) keeps a stale jitter that must not count. The worst stream
 * instead would let a silent peer's handful of packets decide the rating.
 */
import {
  Emitter,
  assertNever,
  QUALITY_THRESHOLDS,
  type ClientMessage,
  type Codec,
  type QualityReport,
  type QualityScope,
  type QualityUpdate,
} from '@callstack/protocol';
import type { SignalingClient } from './signaling.ts';

export const QUALITY_REPORT_INTERVAL_MS = 5_000;

export interface StatsSource {
  getStats(): Promise<RTCStatsReport>;
}

/** One entry of an RTCStatsReport, as plain data (the recorded shapes in the tests are these). */
export type StatsEntry = { id: string; type: string } & Record<string, unknown>;

/** The cumulative counters of one sample, to take the next one's deltas from. */
export interface StatsSnapshot {
  at: number;
  /** By `<source index>/<inbound-rtp id>`. */
  inbound: Record<string, { packetsReceived: number; packetsLost: number; bytesReceived: number }>;
}

export type QualitySummary = Omit<QualityReport, 'type' | 'ref' | 'scope'>;

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const clamp = (value: number, max: number) => Math.min(max, Math.max(0, value));

/**
 * Summarises one sample of each source against the previous snapshot. The summary is null for
 * the first sample (no deltas yet), when no audio was received in the interval, or while no RTT
 * is known: nothing worth rating.
 */
export function summariseStats(
  reports: StatsEntry[][],
  previous: StatsSnapshot | null,
  now: number,
): { summary: QualitySummary | null; snapshot: StatsSnapshot } {
  const snapshot: StatsSnapshot = { at: now, inbound: {} };
  let rttSeconds: number | null = null;
  /** Σ packets received × jitter, over the audio streams: divided by `received` below. */
  let jitterWeighted = 0;
  let received = 0;
  let lost = 0;
  let audioSeen = false;
  let codec: Codec | null = null;
  let videoBytes = 0;
  let video: { framesPerSecond: number; width: number; height: number } | null = null;

  for (const [source, entries] of reports.entries()) {
    const byId = new Map(entries.map((entry) => [entry.id, entry]));
    const rtt = roundTripSeconds(entries, byId);
    if (rtt !== null) rttSeconds = Math.max(rttSeconds ?? 0, rtt);
    for (const entry of entries) {
      if (entry.type !== 'inbound-rtp') continue;
      const key = `${source}/${entry.id}`;
      const counters = {
        packetsReceived: num(entry.packetsReceived) ?? 0,
        packetsLost: num(entry.packetsLost) ?? 0,
        bytesReceived: num(entry.bytesReceived) ?? 0,
      };
      snapshot.inbound[key] = counters;
      const before = previous?.inbound[key] ?? { packetsReceived: 0, packetsLost: 0, bytesReceived: 0 };
      if (entry.kind === 'audio') {
        audioSeen = true;
        const streamReceived = Math.max(0, counters.packetsReceived - before.packetsReceived);
        received += streamReceived;
        // packetsLost may go down when late packets arrive after all.
        lost += Math.max(0, counters.packetsLost - before.packetsLost);
        jitterWeighted += streamReceived * (num(entry.jitter) ?? 0);
        codec ??= codecOf(byId.get(String(entry.codecId)));
      } else if (entry.kind === 'video' && entry.mid !== 'probator') {
        // mediasoup's bandwidth probation stream (mid `probator`) is padding, not video.
        videoBytes += Math.max(0, counters.bytesReceived - before.bytesReceived);
        const width = num(entry.frameWidth) ?? 0;
        if (!video || width > video.width) {
          video = { framesPerSecond: num(entry.framesPerSecond) ?? 0, width, height: num(entry.frameHeight) ?? 0 };
        }
      }
    }
  }

  if (!previous || !audioSeen || received + lost === 0 || rttSeconds === null) return { summary: null, snapshot };
  const intervalMs = Math.round(Math.min(60_000, Math.max(1_000, now - previous.at)));
  const summary: QualitySummary = {
    rttMs: clamp(rttSeconds * 1000, 60_000),
    jitterMs: clamp(received > 0 ? (jitterWeighted / received) * 1000 : 0, 10_000),
    lossPercent: (100 * lost) / (lost + received),
    codec: codec ?? 'unknown',
    intervalMs,
  };
  if (video) {
    summary.video = {
      bitrateKbps: clamp((videoBytes * 8) / intervalMs, 100_000),
      framesPerSecond: clamp(video.framesPerSecond, 240),
      width: Math.round(clamp(video.width, 16_384)),
      height: Math.round(clamp(video.height, 16_384)),
    };
  }
  return { summary, snapshot };
}

/** RTT of the selected candidate pair, else of RTCP (remote-inbound-rtp), in seconds; null when unknown. */
function roundTripSeconds(entries: StatsEntry[], byId: Map<string, StatsEntry>): number | null {
  for (const entry of entries) {
    if (entry.type !== 'transport' || typeof entry.selectedCandidatePairId !== 'string') continue;
    const rtt = num(byId.get(entry.selectedCandidatePairId)?.currentRoundTripTime);
    if (rtt !== null) return rtt;
  }
  // Firefox has no transport entry: the nominated, succeeded pair is the selected one.
  const pair = entries.find((entry) => entry.type === 'candidate-pair' && entry.nominated === true && entry.state === 'succeeded');
  const pairRtt = num(pair?.currentRoundTripTime);
  if (pairRtt !== null) return pairRtt;
  const rtcp = entries.map((entry) => (entry.type === 'remote-inbound-rtp' ? num(entry.roundTripTime) : null)).filter((rtt) => rtt !== null);
  return rtcp.length > 0 ? Math.max(...rtcp) : null;
}

function codecOf(entry: StatsEntry | undefined): Codec | null {
  if (!entry || typeof entry.mimeType !== 'string') return null;
  switch (entry.mimeType.toLowerCase()) {
    case 'audio/opus':
      return 'opus';
    case 'audio/pcmu':
      return 'pcmu';
    case 'audio/pcma':
      return 'pcma';
    case 'audio/g722':
      return 'g722';
    default:
      return 'unknown';
  }
}

export interface QualityMonitorOptions {
  signaling: Pick<SignalingClient, 'on' | 'send'>;
  scope: QualityScope;
  /** Read at every sample, so a conference can add and drop transports as it goes. */
  sources: () => StatsSource[];
  intervalMs?: number;
  now?: () => number;
}

/** Samples, reports and keeps the edge's latest rating for one call or room; `update` on each. */
export class QualityMonitor extends Emitter<{ update: [update: QualityUpdate] }> {
  latest: QualityUpdate | null = null;
  private previous: StatsSnapshot | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private refCount = 0;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: QualityMonitorOptions) {
    super();
    this.unsubscribe = options.signaling.on('quality', (update) => {
      if (this.stopped || !sameScope(update.scope, options.scope)) return;
      this.latest = update;
      this.emit('update', update);
    });
    // The first sample is the baseline the first report's deltas start from.
    void this.sample();
    this.timer = setInterval(() => void this.sample(), options.intervalMs ?? QUALITY_REPORT_INTERVAL_MS);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe();
  }

  private async sample(): Promise<void> {
    let reports: StatsEntry[][];
    try {
      reports = await Promise.all(this.options.sources().map(async (source) => [...(await source.getStats()).values()] as StatsEntry[]));
    } catch (error) {
      console.warn('quality: getStats failed', error);
      return;
    }
    if (this.stopped) return;
    const { summary, snapshot } = summariseStats(reports, this.previous, (this.options.now ?? Date.now)());
    this.previous = snapshot;
    if (!summary) return;
    const report: ClientMessage = { type: 'quality.report', ref: `q${++this.refCount}`, scope: this.options.scope, ...summary };
    this.options.signaling.send(report);
  }
}

function sameScope(a: QualityScope, b: QualityScope): boolean {
  return a.kind === 'call' ? b.kind === 'call' && a.callId === b.callId : b.kind === 'room' && a.roomId === b.roomId;
}

// ---- what the UI shows -------------------------------------------------------------------------

export type QualityLevel = 'excellent' | 'good' | 'fair' | 'poor';

/** Bars out of 4; below the warning threshold (MOS 3.5) a call is fair at best. */
export function qualityLevel(mos: number): { level: QualityLevel; bars: number; label: string } {
  if (mos >= 4) return { level: 'excellent', bars: 4, label: 'Excellent' };
  if (mos >= QUALITY_THRESHOLDS.mos) return { level: 'good', bars: 3, label: 'Good' };
  if (mos >= 3) return { level: 'fair', bars: 2, label: 'Fair' };
  return { level: 'poor', bars: 1, label: 'Poor' };
}

/** One sentence per crossed threshold, naming the figure, e.g. "High latency 520 ms". */
export function warningTexts(update: Pick<QualityUpdate, 'warnings' | 'stats' | 'mos'>): string[] {
  return update.warnings.map((warning) => {
    switch (warning) {
      case 'rtt':
        return `High latency ${Math.round(update.stats.rttMs)} ms`;
      case 'jitter':
        return `High jitter ${Math.round(update.stats.jitterMs)} ms`;
      case 'loss':
        return `Packet loss ${update.stats.lossPercent.toFixed(1)} %`;
      case 'mos':
        return `Poor audio quality (MOS ${update.mos.toFixed(1)})`;
      default:
        return assertNever(warning);
    }
  });
}
