/**
 * For tests: real RTP from Node. ffmpeg encodes a few seconds of a test tone (opus) or test
 * pattern (VP8) into RTP once, as fast as it can, to a local socket; `sendClip` then replays the
 * packets in real time (paced by their RTP timestamps) with the producer's SSRC and payload type.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';

export interface RtpClip {
  kind: 'audio' | 'video';
  clockRate: number;
  /** RTP packets as ffmpeg sent them (RTCP left out), in order. */
  packets: Buffer[];
  /** Media time covered, from the first to the last packet's timestamp, in ms. */
  durationMs: number;
}

const SOURCES = {
  audio: (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`, '-c:a', 'libopus', '-b:a', '48k', '-ac', '2'],
  video: (seconds: number) => [
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=320x240:rate=15:duration=${seconds}`,
    '-c:v',
    'libvpx',
    '-b:v',
    '300k',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-g',
    '15',
  ],
};

export async function encodeClip(kind: 'audio' | 'video', seconds: number): Promise<RtpClip> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const packets: Buffer[] = [];
  socket.on('message', (packet) => {
    const type = packet[1]!;
    if (type < 200 || type > 204) packets.push(packet); // RTCP (SR, SDES, BYE) comes to the same port
  });
  const ffmpeg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      ...SOURCES[kind](seconds),
      '-payload_type',
      '100',
      '-f',
      'rtp',
      `rtp://127.0.0.1:${port}?rtcpport=${port}&pkt_size=1200`,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => ffmpeg.on('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 100)); // the last datagrams
  socket.close();
  if (code !== 0 || packets.length === 0) throw new Error(`ffmpeg could not encode the ${kind} clip (exit ${code}): ${stderr}`);
  const clockRate = kind === 'audio' ? 48_000 : 90_000;
  const span = (packets.at(-1)!.readUInt32BE(4) - packets[0]!.readUInt32BE(4)) >>> 0;
  return { kind, clockRate, packets, durationMs: Math.round((span / clockRate) * 1000) };
}

/** Sends the clip to `target` in real time as `ssrc` / `payloadType`; resolves after the last packet. */
export async function sendClip(
  clip: RtpClip,
  socket: Socket,
  target: { ip: string; port: number },
  stream: { ssrc: number; payloadType: number },
): Promise<void> {
  const firstTimestamp = clip.packets[0]!.readUInt32BE(4);
  const start = performance.now();
  for (const original of clip.packets) {
    const packet = Buffer.from(original);
    packet[1] = (packet[1]! & 0x80) | stream.payloadType; // keep the marker bit
    packet.writeUInt32BE(stream.ssrc, 8);
    const dueMs = (((packet.readUInt32BE(4) - firstTimestamp) >>> 0) / clip.clockRate) * 1000 - (performance.now() - start);
    if (dueMs > 1) await new Promise((resolve) => setTimeout(resolve, dueMs));
    socket.send(packet, target.port, target.ip);
  }
}
