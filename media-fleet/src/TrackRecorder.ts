/**
 * One producer into one file: a PlainTransport on the producer's router sends its RTP (and RTCP
 * on the next port) to an ffmpeg process that listens on a free port pair and copies the stream
 * into a container without re-encoding (opus → Ogg, VP8 → WebM, H264 → Matroska). The consumer
 * starts paused and is resumed once ffmpeg listens (plus a key frame for video), so the file
 * starts at a decodable frame. `finish` closes the consumer, lets ffmpeg end the file cleanly and
 * measures it (stat, ffprobe).
 *
 * How ffmpeg ends: not by SIGINT, which ffmpeg 5.1 only acts on between packets, so an idle input
 * (a muted producer) leaves it blocked, and a second signal aborts the trailer and breaks the
 * file. Instead ffmpeg runs with `-listen_timeout 1` (its input ends, cleanly, after 1 s without a
 * datagram) and this class sends it an RTCP receiver report every 250 ms while recording, so a
 * silent producer does not end the file. `finish` stops those and closes the consumer: ffmpeg
 * writes the trailer and exits about a second later. SIGKILL only if it hangs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { Emitter } from '@callstack/protocol';
import type { PortPairs } from './PortPairs.ts';
import type { ProducerAppData } from './RoomTypes.ts';
import type { FinishedTrack, TrackRecorderEvents } from './RecorderTypes.ts';

const run = promisify(execFile);

/** Containers that take each codec as it comes off the wire. */
export const CONTAINERS: Record<string, { extension: 'ogg' | 'webm' | 'mkv'; format: string; contentType: string }> = {
  'audio/opus': { extension: 'ogg', format: 'ogg', contentType: 'audio/ogg' },
  'video/vp8': { extension: 'webm', format: 'webm', contentType: 'video/webm' },
  'video/h264': { extension: 'mkv', format: 'matroska', contentType: 'video/x-matroska' },
};

const LISTEN_TIMEOUT_MS = 5_000;
/** ffmpeg ends its input after 1 s without a datagram and exits; past this it is killed. */
const EXIT_TIMEOUT_MS = 10_000;
const KEEPALIVE_MS = 250;
/** RTCP RR (V=2, no report blocks): ffmpeg reads and ignores it, and its idle clock restarts. */
const RTCP_KEEPALIVE = Buffer.from([0x80, 201, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]);

export interface TrackRecorderOptions {
  router: types.Router;
  producer: types.Producer<ProducerAppData>;
  /** `<dir>/<recordingId>`, which exists. */
  dir: string;
  ports: PortPairs;
  logger: Logger;
}

export class TrackRecorder extends Emitter<TrackRecorderEvents> {
  readonly trackId = randomUUID();
  readonly startedAt = Date.now();
  readonly logger: Logger;
  readonly #options: TrackRecorderOptions;
  readonly #codec: types.RtpCodecParameters;
  readonly #container: (typeof CONTAINERS)[string];
  readonly #transport: types.PlainTransport;
  readonly #consumer: types.Consumer;
  readonly #ffmpeg: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #port: number;
  readonly #keepalive: Socket;
  readonly #keepaliveTimer: NodeJS.Timeout;
  #stderr = '';
  #finished: Promise<FinishedTrack> | undefined;

  /** Starts recording `producer`; throws (and leaves nothing behind) when ffmpeg does not come up. */
  static async start(options: TrackRecorderOptions): Promise<TrackRecorder> {
    const { router, producer, ports } = options;
    const port = await ports.reserve();
    let transport: types.PlainTransport | undefined;
    try {
      transport = await router.createPlainTransport({ listenIp: { ip: ports.ip }, rtcpMux: false, comedia: false });
      await transport.connect({ ip: ports.ip, port, rtcpPort: port + 1 });
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: true });
      const recorder = new TrackRecorder(options, transport, consumer, port);
      await recorder.#listening();
      await consumer.resume();
      if (consumer.kind === 'video') await consumer.requestKeyFrame();
      recorder.logger.info({ port, codec: recorder.#codec.mimeType }, 'track recording');
      return recorder;
    } catch (error) {
      transport?.close();
      ports.release(port);
      throw error;
    }
  }

  private constructor(options: TrackRecorderOptions, transport: types.PlainTransport, consumer: types.Consumer, port: number) {
    super();
    this.#options = options;
    this.#transport = transport;
    this.#consumer = consumer;
    this.#port = port;
    this.logger = options.logger.child({ trackId: this.trackId, producerId: options.producer.id });
    this.#codec = consumer.rtpParameters.codecs[0]!;
    const container = CONTAINERS[this.#codec.mimeType.toLowerCase()];
    if (!container) throw new Error(`cannot record ${this.#codec.mimeType}`);
    this.#container = container;
    this.#ffmpeg = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-loglevel',
        'warning',
        '-protocol_whitelist',
        'pipe,udp,rtp',
        '-listen_timeout',
        '1',
        '-f',
        'sdp',
        '-i',
        'pipe:0',
        '-map',
        '0',
        '-c',
        'copy',
        '-f',
        container.format,
        '-y',
        this.path,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    this.#ffmpeg.stderr!.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-2000)));
    this.#ffmpeg.stdin!.on('error', () => {}); // an ffmpeg that died early is reported by #listening
    this.#ffmpeg.stdin!.end(this.#sdp());
    this.#exited = new Promise((resolve) => {
      this.#ffmpeg.once('exit', (code) => resolve(code));
      this.#ffmpeg.once('error', () => resolve(null));
    });
    this.#keepalive = createSocket('udp4');
    this.#keepalive.on('error', () => {}); // nothing listening yet: the next one gets there
    this.#keepaliveTimer = setInterval(() => this.#keepalive.send(RTCP_KEEPALIVE, port + 1, options.ports.ip), KEEPALIVE_MS);
    consumer.once('producerclose', () => this.emit('producerClosed'));
  }

  get producer(): types.Producer<ProducerAppData> {
    return this.#options.producer;
  }

  get fileName(): string {
    return `${this.trackId}.${this.#container.extension}`;
  }

  get path(): string {
    return join(this.#options.dir, this.fileName);
  }

  get contentType(): string {
    return this.#container.contentType;
  }

  /** Stops the track and measures its file; the same promise on every call. */
  finish(): Promise<FinishedTrack> {
    this.#finished ??= this.#finish();
    return this.#finished;
  }

  async #finish(): Promise<FinishedTrack> {
    this.#consumer.close();
    this.#transport.close();
    const endedAt = Date.now();
    clearInterval(this.#keepaliveTimer);
    this.#keepalive.close();
    const timer = setTimeout(() => this.#ffmpeg.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    const code = await this.#exited;
    clearTimeout(timer);
    this.#options.ports.release(this.#port);
    const sizeBytes = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
    const durationMs = sizeBytes > 0 ? await probeDurationMs(this.path) : 0;
    if (code !== 0) this.logger.warn({ code, stderr: this.#stderr }, 'ffmpeg ended badly');
    this.logger.info({ sizeBytes, durationMs }, 'track finished');
    const { producer } = this.#options;
    return {
      trackId: this.trackId,
      producerId: producer.id,
      peerId: producer.appData.peerId,
      kind: producer.kind,
      source: producer.appData.source,
      codec: this.#codec.mimeType,
      fileName: this.fileName,
      path: this.path,
      startedAt: this.startedAt,
      endedAt,
      sizeBytes,
      durationMs,
    };
  }

  /** Resolves once ffmpeg holds its RTP port; throws if it exits or takes too long. */
  async #listening(): Promise<void> {
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    let exited = false;
    void this.#exited.then(() => (exited = true));
    while (!(await this.#options.ports.inUse(this.#port))) {
      if (exited || Date.now() > deadline) {
        this.#ffmpeg.kill('SIGKILL');
        this.#consumer.close();
        clearInterval(this.#keepaliveTimer);
        this.#keepalive.close();
        throw new Error(`ffmpeg did not start listening on ${this.#port}: ${this.#stderr.trim() || 'timeout'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** What ffmpeg reads: one RTP stream on `port` (RTCP on `port + 1`) with the consumer's codec. */
  #sdp(): string {
    const codec = this.#codec;
    const [kind, name] = codec.mimeType.split('/') as [string, string];
    const pt = codec.payloadType;
    const fmtp = Object.entries(codec.parameters ?? {})
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(';');
    return [
      'v=0',
      `o=- 0 0 IN IP4 ${this.#options.ports.ip}`,
      's=callstack-recording',
      `c=IN IP4 ${this.#options.ports.ip}`,
      't=0 0',
      `m=${kind} ${this.#port} RTP/AVP ${pt}`,
      `a=rtpmap:${pt} ${name}/${codec.clockRate}${codec.channels ? `/${codec.channels}` : ''}`,
      ...(fmtp ? [`a=fmtp:${pt} ${fmtp}`] : []),
      'a=recvonly',
      '',
    ].join('\r\n');
  }
}

/** The file's duration as ffprobe reads it from the container; 0 when it cannot. */
async function probeDurationMs(path: string): Promise<number> {
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', path]);
    const seconds = Number(stdout.trim());
    return Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0;
  } catch {
    return 0;
  }
}
