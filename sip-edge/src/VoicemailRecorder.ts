/**
 * One voicemail message into one file: an ffmpeg on this node takes the caller's RTP from
 * rtpengine (G.711, as the carrier sends it) on a port pair of its own and encodes it to Opus in
 * Ogg, which every browser plays. The port pair is chosen when the call is answered (rtpengine
 * learns it from the recorder's SDP); ffmpeg starts listening there once the greeting is over, so
 * what the caller says during the greeting is not in the message.
 *
 * How ffmpeg ends: its input ends by itself after `IDLE_SECONDS` without a packet (rtpengine sends
 * nothing once the call is deleted, and a caller who says nothing for that long has finished), or
 * at `-t`, the longest message. It is killed only if it hangs. The file is then measured (ffprobe).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

/** Seconds without a packet that end the message. */
const IDLE_SECONDS = 4;
/** ffmpeg is killed this long past the end of the longest message (plus the idle wait). */
const EXIT_GRACE_MS = (IDLE_SECONDS + 6) * 1000;

/** A G.711 codec the recorder takes, by its static payload type (RFC 3551). */
export interface RecorderCodec {
  payloadType: 0 | 8;
  name: 'PCMU' | 'PCMA';
}

/**
 * The codec to record the carrier's offer in: its first G.711 one, in its order of preference;
 * null when it offers neither (rtpengine then transcodes to PCMU).
 */
export function recorderCodecFor(offerSdp: string): RecorderCodec | null {
  const audio = /^m=audio \d+ [^ ]+ ([\d ]+)/m.exec(offerSdp)?.[1]?.trim().split(/\s+/) ?? [];
  for (const payloadType of audio) {
    if (payloadType === '0') return { payloadType: 0, name: 'PCMU' };
    if (payloadType === '8') return { payloadType: 8, name: 'PCMA' };
  }
  return null;
}

export interface FinishedMessage {
  path: string;
  sizeBytes: number;
  durationMs: number;
  startedAt: number;
}

export class VoicemailRecorder {
  private ffmpeg: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private startedAt = 0;
  private maxSeconds = 0;
  private stderr = '';
  private finished: Promise<FinishedMessage> | undefined;

  private constructor(
    readonly ip: string,
    readonly port: number,
    readonly codec: RecorderCodec,
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Holds a free port pair in `ports` for the recorder to listen on (RTP, RTCP next to it). */
  static async reserve(options: {
    ip: string;
    ports: { min: number; max: number };
    codec: RecorderCodec;
    path: string;
    log: Logger;
  }): Promise<VoicemailRecorder> {
    const { ip, ports } = options;
    const pairs = Math.floor((ports.max - ports.min) / 2);
    for (let attempt = 0; attempt < 32; attempt++) {
      const port = ports.min + 2 * Math.floor(Math.random() * pairs);
      if ((await bindable(ip, port)) && (await bindable(ip, port + 1))) return new VoicemailRecorder(ip, port, options.codec, options.path, options.log);
    }
    throw new Error(`no free port pair for a voicemail recorder in ${ports.min}-${ports.max}`);
  }

  /** The recorder's side of the call, for rtpengine's answer: it receives only. */
  get sdp(): string {
    return this.description('sendrecv');
  }

  /** Starts listening; the message ends by itself (see above) or at `maxSeconds`. */
  async record(maxSeconds: number): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.startedAt = Date.now();
    this.maxSeconds = maxSeconds;
    const ffmpeg = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-loglevel',
        'warning',
        '-protocol_whitelist',
        'pipe,udp,rtp',
        '-listen_timeout',
        String(IDLE_SECONDS),
        '-f',
        'sdp',
        '-i',
        'pipe:0',
        '-map',
        '0:a',
        '-t',
        String(maxSeconds),
        '-c:a',
        'libopus',
        '-b:a',
        '24k',
        '-ac',
        '1',
        '-f',
        'ogg',
        '-y',
        this.path,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    this.ffmpeg = ffmpeg;
    ffmpeg.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    ffmpeg.stdin!.on('error', () => {}); // an ffmpeg that died at once is reported by finish()
    ffmpeg.stdin!.end(this.description('recvonly'));
    this.exited = new Promise((resolve) => {
      ffmpeg.once('exit', (code) => resolve(code));
      ffmpeg.once('error', () => resolve(null));
    });
  }

  /** Waits for the message to end and measures it; the same promise on every call. */
  finish(): Promise<FinishedMessage> {
    this.finished ??= this.measure();
    return this.finished;
  }

  /** Removes the file (a message too short to keep, or one nobody could be told about). */
  async discard(): Promise<void> {
    await rm(this.path, { force: true });
  }

  private async measure(): Promise<FinishedMessage> {
    const ffmpeg = this.ffmpeg;
    if (ffmpeg) {
      const timer = setTimeout(() => ffmpeg.kill('SIGKILL'), this.startedAt + this.maxSeconds * 1000 + EXIT_GRACE_MS - Date.now());
      const code = await this.exited;
      clearTimeout(timer);
      if (code !== 0) this.log.info({ code, stderr: this.stderr.trim() }, 'sip.voicemail_recorder_ended');
    }
    const sizeBytes = await stat(this.path).then(
      (file) => file.size,
      () => 0,
    );
    const durationMs = sizeBytes > 0 ? await probeDurationMs(this.path) : 0;
    return { path: this.path, sizeBytes, durationMs, startedAt: this.startedAt };
  }

  private description(direction: 'sendrecv' | 'recvonly'): string {
    const { payloadType, name } = this.codec;
    return [
      'v=0',
      `o=- 0 0 IN IP4 ${this.ip}`,
      's=callstack-voicemail',
      `c=IN IP4 ${this.ip}`,
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${payloadType}`,
      `a=rtpmap:${payloadType} ${name}/8000`,
      // rtpengine plays the greeting towards the carrier only while the recorder's side is not recvonly.
      `a=${direction}`,
      '',
    ].join('\r\n');
  }
}

function bindable(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, ip, () => socket.close(() => resolve(true)));
  });
}

/** The file's duration as ffprobe reads it; 0 when it cannot. */
async function probeDurationMs(path: string): Promise<number> {
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', path]);
    const seconds = Number(stdout.trim());
    return Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0;
  } catch {
    return 0;
  }
}
