/**
 * A headless baresip (Debian's 1.0.0) as a real SIP desk phone: G.711 only, audio from a WAV file
 * (aufile), received audio optionally written to a WAV (sndfile), driven over ctrl_tcp (netstring-framed
 * JSON: commands with a token, responses carrying it back, and every UA event).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, Service, waitFor } from '../../scripts/lib/processes.ts';

const run = promisify(execFile);

export interface BaresipAccount {
  username: string;
  password: string;
  /** The AOR's host, and the digest realm. */
  domain: string;
  /** Outbound proxy for REGISTER and every call; without one, requests go straight to their URI. */
  registrar?: { host: string; port: number; transport?: 'udp' | 'tcp' | 'tls' };
  /** Default true when there is a registrar. */
  register?: boolean;
  /** Seconds between re-registrations (default 600). */
  regint?: number;
}

export interface BaresipOptions {
  name: string;
  logFile: string;
  account: BaresipAccount;
  /** 8 kHz mono S16LE WAV sent as the microphone; baresip ends the call when it runs out ("end of file"). */
  audioSource: string;
  /**
   * Where the audio received in a call is written (WAV) once it has closed. A hold on either side
   * ends it early: baresip 1.0.0 drops the receive filters on a non-sendrecv SDP and never rebuilds them.
   */
  recordTo?: string;
}

/** A UA event as ctrl_tcp sends it (baresip's src/event.c). */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: 'incoming' | 'outgoing';
  peeruri?: string;
  peerdisplayname?: string;
  /** The call's Call-ID. */
  id?: string;
  /** CALL_CLOSED: the reason ("Connection reset by user", "486 Busy Here"...); CALL_DTMF_START: the digit. */
  param?: string;
  [key: string]: unknown;
}

interface Response {
  response: true;
  ok: boolean;
  data: string;
  token?: string;
}

/** A range of its own so the phones' RTP never lands on CI's (42000-42199) or rtpengine's (43000-43999); baresip retries a taken port. */
const RTP_PORTS = '44000-45999';

export class Baresip {
  /** Every event received, in order. */
  readonly events: BaresipEvent[] = [];
  private buffer = Buffer.alloc(0);
  private nextToken = 0;
  private readonly pending = new Map<string, { resolve: (data: string) => void; reject: (error: Error) => void }>();
  private readonly waiters = new Set<() => void>();
  /** Index in `events` after the one the last nextEvent() returned. */
  private cursor = 0;
  /** Events are delivered one after another: CALL_CLOSED waits until its recording is saved. */
  private delivery = Promise.resolve();
  private closed: Error | undefined;

  private constructor(
    readonly name: string,
    /** `sip:user@domain` */
    readonly aor: string,
    readonly sipPort: number,
    readonly ctrlPort: number,
    private readonly dir: string,
    private readonly service: Service,
    private readonly socket: Socket,
    private readonly recordTo: string | undefined,
  ) {
    socket.on('data', (data) => this.onData(data));
    socket.on('close', () => this.fail(new Error(`${name}: ctrl_tcp connection closed`)));
    socket.on('error', (error) => this.fail(error));
  }

  /** `sip:<user>@127.0.0.1:<sip port>`: where to call this phone directly. */
  get uri(): string {
    return `sip:${this.aor.slice(4).split('@')[0]}@127.0.0.1:${this.sipPort}`;
  }

  /** baresip also binds its SIP port + 1 (TLS), which freePort() cannot promise: a start that lost it (exit 98) is retried. */
  static async start(options: BaresipOptions): Promise<Baresip> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Baresip.startOnce(options);
      } catch (error) {
        if (attempt >= 3 || !/Address already in use|code 98\b/.test((error as Error).message)) throw error;
      }
    }
  }

  private static async startOnce(options: BaresipOptions): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), `callstack-baresip-${options.name}-`));
    const sipPort = await freePort();
    // Consecutive free ports are common: the control port must not be the one TLS takes.
    let ctrlPort = await freePort();
    while (ctrlPort === sipPort + 1) ctrlPort = await freePort();
    const recordings = join(dir, 'recordings');
    const modules = ['g711', 'aufile', ...(options.recordTo ? ['sndfile'] : [])];
    writeFileSync(
      join(dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${sipPort}`,
        'call_local_timeout 120',
        'call_max_calls 4',
        // menu would print a call status line to the log several times a second.
        'statmode_default off',
        `audio_source aufile,${options.audioSource}`,
        // Media binds to this address (baresip would take the default route's); 1.0.0 finds no IPv4 address on "lo".
        'net_interface 127.0.0.1',
        `rtp_ports ${RTP_PORTS}`,
        'rtcp_mux no',
        'jitter_buffer_delay 5-10',
        'module_path /usr/lib/baresip/modules',
        ...modules.map((module) => `module ${module}.so`),
        // menu holds the call commands (dial, accept, hold, sndcode, transfer...); ctrl_tcp relays them.
        'module_app menu.so',
        'module_app ctrl_tcp.so',
        `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
        `snd_path ${recordings}`,
      ].join('\n') + '\n',
    );
    mkdirSync(recordings);
    const service = new Service({
      name: `baresip ${options.name}`,
      command: '/usr/bin/baresip',
      args: ['-4', '-f', dir],
      logFile: options.logFile,
      readyPattern: /baresip is ready/,
      readyTimeoutMs: 15_000,
    });
    let socket: Socket | undefined;
    try {
      await service.start();
      socket = await waitFor(() => connectTo(ctrlPort), { timeoutMs: 10_000, what: `${options.name}'s ctrl_tcp` });
    } catch (error) {
      socket?.destroy();
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const { username, password, domain, registrar } = options.account;
    const phone = new Baresip(options.name, `sip:${username}@${domain}`, sipPort, ctrlPort, dir, service, socket, options.recordTo);
    // The UA is created only now, over ctrl_tcp (no accounts file, no account module): one from the
    // file could register before the connection exists, and ctrl_tcp does not replay the REGISTER_OK it sent to nobody.
    const register = options.account.register ?? registrar !== undefined;
    const params = [
      `<sip:${username}@${domain}${registrar?.transport ? `;transport=${registrar.transport}` : ''}>`,
      `auth_pass=${password}`,
      'answermode=manual',
    ];
    if (registrar) params.push(`outbound="sip:${registrar.host}:${registrar.port};transport=${registrar.transport ?? 'udp'}"`);
    params.push(`regint=${register ? (options.account.regint ?? 600) : 0}`);
    try {
      await phone.command('uanew', params.join(';'));
    } catch (error) {
      await phone.stop();
      throw error;
    }
    return phone;
  }

  /** Sends one ctrl_tcp command and returns baresip's answer text; throws when baresip says ok=false. */
  command(command: string, params?: string): Promise<string> {
    if (this.closed) return Promise.reject(this.closed);
    const token = `${this.name}-${++this.nextToken}`;
    const body = Buffer.from(JSON.stringify({ command, ...(params === undefined ? {} : { params }), token }));
    return new Promise<string>((resolve, reject) => {
      this.pending.set(token, {
        resolve,
        reject: (error) => reject(new Error(`${this.name}: ${command}${params ? ` ${params}` : ''}: ${error.message}`)),
      });
      this.socket.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    });
  }

  /** Resolves on REGISTER_OK, rejects with baresip's reason on REGISTER_FAIL. */
  async registered(timeoutMs = 10_000): Promise<void> {
    const event = await this.nextEvent((e) => e.type === 'REGISTER_OK' || e.type === 'REGISTER_FAIL', timeoutMs);
    if (event.type === 'REGISTER_FAIL') throw new Error(`${this.name}: REGISTER_FAIL: ${event.param ?? ''}`);
  }

  dial(uri: string): Promise<string> {
    return this.command('dial', uri);
  }

  /** Answers the ringing call. */
  answer(): Promise<string> {
    return this.command('accept');
  }

  hangup(): Promise<string> {
    return this.command('hangup');
  }

  hold(): Promise<string> {
    return this.command('hold');
  }

  resume(): Promise<string> {
    return this.command('resume');
  }

  /** RFC 4733 telephone-events, one digit (press and release) per command. */
  async sendDtmf(digits: string): Promise<void> {
    for (const digit of digits) await this.command('sndcode', digit);
  }

  /** Blind transfer (REFER) of the current call. */
  transfer(uri: string): Promise<string> {
    return this.command('transfer', uri);
  }

  /**
   * The first event matching `predicate` after the one the previous call returned (events that
   * arrived before this call count, so nothing is missed between a command and the wait).
   */
  nextEvent(predicate: (event: BaresipEvent) => boolean, timeoutMs = 10_000): Promise<BaresipEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = this.cursor; i < this.events.length; i++) {
          const event = this.events[i]!;
          if (predicate(event)) {
            this.cursor = i + 1;
            done();
            resolve(event);
            return;
          }
        }
        if (this.closed) {
          done();
          reject(this.closed);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no matching event within ${timeoutMs} ms; events: ${this.events.map((e) => e.type).join(' ')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  waitFor(type: string, timeoutMs = 10_000): Promise<BaresipEvent> {
    return this.nextEvent((event) => event.type === type, timeoutMs);
  }

  /**
   * Quits and removes the phone's folder. SIGTERM is baresip's quit (hang up, unregister); SIGKILL
   * follows in 2 s, as unregistering from a registrar that is gone would take much longer.
   */
  async stop(): Promise<void> {
    this.socket.destroy();
    await this.service.stop(2_000);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private onData(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString());
      if (this.buffer.length < colon + 1 + length + 1) return;
      const message = JSON.parse(this.buffer.subarray(colon + 1, colon + 1 + length).toString()) as Record<string, unknown>;
      this.buffer = this.buffer.subarray(colon + 1 + length + 1);
      if (message.response === true) {
        const { ok, data, token } = message as unknown as Response;
        const waiter = token === undefined ? undefined : this.pending.get(token);
        if (!waiter) continue;
        this.pending.delete(token!);
        if (ok) waiter.resolve(data);
        else waiter.reject(new Error(data));
      } else {
        const event = message as BaresipEvent;
        this.delivery = this.delivery.then(() => this.deliver(event));
      }
    }
  }

  private async deliver(event: BaresipEvent): Promise<void> {
    if (event.type === 'CALL_CLOSED' && this.recordTo) {
      // baresip frees the call (and sndfile closes its WAV) right after sending CALL_CLOSED, in the
      // same turn of its main loop: the answer to any later command proves the file is complete.
      await this.command('reginfo').catch(() => {});
      // After stop() the folder is gone.
      if (!this.closed) this.saveRecording(this.recordTo);
    }
    this.events.push(event);
    for (const check of [...this.waiters]) check();
  }

  /**
   * sndfile names its files `dump-<local time to the second>-dec.wav` (received; `-enc.wav`: sent),
   * not by call: the newest one is the call that just closed, unless another call is still up.
   */
  private saveRecording(to: string): void {
    const received = readdirSync(join(this.dir, 'recordings'))
      .filter((file) => file.endsWith('-dec.wav'))
      .sort()
      .at(-1);
    if (received) copyFileSync(join(this.dir, 'recordings', received), to);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    for (const check of [...this.waiters]) check();
  }
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Length, RMS amplitude (0..1 of full scale) and rough frequency of a WAV (or of its last seconds), from `sox <file> -n stat`. */
export async function audioEnergy(wavPath: string, { lastSeconds }: { lastSeconds?: number } = {}): Promise<{ seconds: number; rms: number; hz: number }> {
  // stat prints to stderr; `trim -N` keeps the last N seconds.
  const { stderr } = await run('sox', [wavPath, '-n', ...(lastSeconds ? ['trim', `-${lastSeconds}`] : []), 'stat']);
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(stderr);
    if (!match) throw new Error(`sox stat of ${wavPath} has no "${name}":\n${stderr}`);
    return Number(match[1]);
  };
  return { seconds: field('Length \\(seconds\\)'), rms: field('RMS\\s+amplitude'), hz: field('Rough\\s+frequency') };
}

/** An 8 kHz mono 16-bit sine WAV, as aufile wants it. */
export async function makeToneWav(path: string, { hz, seconds }: { hz: number; seconds: number }): Promise<void> {
  await run('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', path, 'synth', String(seconds), 'sine', String(hz), 'vol', '0.5']);
}

/** A silent WAV in the same format: what "no audio arrived" measures. */
export async function makeSilentWav(path: string, seconds: number): Promise<void> {
  await run('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', path, 'trim', '0', String(seconds)]);
}
