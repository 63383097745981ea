/** The camera every participant sends (three simulcast layers), and the layer each tile needs. */
import type { types } from 'mediasoup-client';

/**
 * The camera every participant sends. 960x540 is the smallest size at which Chromium sends all
 * three simulcast layers (it drops the top one below that).
 */
export const CAMERA_CONSTRAINTS = { width: { ideal: 960 }, height: { ideal: 540 }, frameRate: { ideal: 15, max: 24 } } as const;
/** Simulcast: quarter, half and full resolution; VP8 temporal layers in each. */
export const CAMERA_ENCODINGS: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 400_000, scalabilityMode: 'L1T3' },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_000_000, scalabilityMode: 'L1T3' },
];

/** Spatial layers of a simulcast consumer, from its scalability mode (`L3T3`, `S3T3`…). */
export function spatialLayersOf(rtpParameters: { encodings?: { scalabilityMode?: unknown }[] }): number {
  const mode = rtpParameters.encodings?.[0]?.scalabilityMode;
  const match = typeof mode === 'string' ? /^[LS](\d+)T\d+/.exec(mode) : null;
  return match ? Number(match[1]) : 1;
}

export interface TileView {
  visible: boolean;
  /** Rendered width in device pixels. */
  width: number;
  /** Shown large (maximised or the screen share stage): always the top layer. */
  large: boolean;
}

/**
 * The smallest simulcast layer at least as wide as the tile. Layer i of n is
 * `topWidth / 2^(n-1-i)` wide (CAMERA_ENCODINGS halves per layer).
 */
export function preferredSpatialLayer(view: TileView, layers: number, topWidth: number = CAMERA_CONSTRAINTS.width.ideal): number {
  const top = Math.max(0, layers - 1);
  if (view.large) return top;
  for (let layer = 0; layer < top; layer++) {
    if (topWidth / 2 ** (top - layer) >= view.width) return layer;
  }
  return top;
}
