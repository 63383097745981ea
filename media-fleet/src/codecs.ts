import type { types } from 'mediasoup';

/**
 * Every room's router offers these. Browsers negotiate opus, VP8 (simulcast) and H264 (Safari,
 * hardware encoders); mediasoup adds the header extensions simulcast needs (mid, rid,
 * repaired-rid, abs-send-time, transport-cc) from its supported capabilities.
 */
export const MEDIA_CODECS: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];
