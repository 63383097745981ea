/**
 * A SIP leg's call quality, from rtpengine's `query`: the phone's RTCP receiver reports about the
 * audio rtpengine sends it (loss, jitter, RTT; rtpengine keeps them per SSRC), turned into the same
 * `quality.report` a browser sends from getStats(), so the edge rates a phone with the same E-model.
 */
import type { Codec, QualityReport } from '@callstack/protocol';
import type { NgResponse } from 'rtpengine-client';

/** How often the gateway reports a connected call, as browsers do. */
export const QUALITY_REPORT_INTERVAL_MS = 5_000;

interface RtcpFigures {
  'round-trip time'?: number;
  jitter?: number;
  'packet loss'?: number;
}

interface QueryShape {
  SSRC?: Record<string, { 'average MOS'?: RtcpFigures; 'MOS progression'?: { entries?: RtcpFigures[] } }>;
  tags?: Record<string, { medias?: { type?: string; codec?: string; streams?: { SSRC?: number }[] }[] }>;
}

/**
 * What the phone hears: the stream sent towards it comes from the browser's side (`browserTag`),
 * and the phone's reports about that SSRC are the latest entry of its MOS progression. Null until
 * the phone has sent a receiver report.
 */
export function qualityReportOf(
  query: NgResponse,
  options: { callId: string; phoneTag: string; browserTag: string; intervalMs: number },
): QualityReport | null {
  const shape = query as QueryShape;
  const towardsPhone = shape.tags?.[options.browserTag]?.medias?.find((media) => media.type === 'audio');
  const ssrc = towardsPhone?.streams?.find((stream) => typeof stream.SSRC === 'number')?.SSRC;
  if (ssrc === undefined) return null;
  const reports = shape.SSRC?.[String(ssrc)];
  const latest = reports?.['MOS progression']?.entries?.at(-1) ?? reports?.['average MOS'];
  if (!latest || latest['round-trip time'] === undefined) return null;
  const phoneMedia = shape.tags?.[options.phoneTag]?.medias?.find((media) => media.type === 'audio');
  return {
    type: 'quality.report',
    ref: `quality-${Date.now()}`,
    scope: { kind: 'call', callId: options.callId },
    // rtpengine gives RTT in microseconds, jitter in milliseconds, loss in percent.
    rttMs: clamp(latest['round-trip time'] / 1000, 60_000),
    jitterMs: clamp(latest.jitter ?? 0, 10_000),
    lossPercent: clamp(latest['packet loss'] ?? 0, 100),
    codec: codecOf(phoneMedia?.codec),
    intervalMs: options.intervalMs,
  };
}

function codecOf(rtpengineName: string | undefined): Codec {
  const name = rtpengineName?.split('/')[0]?.toLowerCase();
  return name === 'pcmu' || name === 'pcma' || name === 'g722' || name === 'opus' ? name : 'unknown';
}

function clamp(value: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(0, value)) : 0;
}
