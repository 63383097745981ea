/**
 * An outside caller leaves a message: the edge ended their call unanswered and said so
 * (`SipDelivery.voicemail`), so the carrier's INVITE is answered here instead of refused. The
 * media stays anchored in rtpengine, which plays the greeting (the owner's own, else the shipped
 * one) to the caller and then forwards what
 * they say to a recorder on this node (VoicemailRecorder). The message ends when the caller hangs
 * up, falls silent, or reaches the longest message; the file is kept under the voicemail directory
 * and reported to the edge, which files it in the user's mailbox. The call's record, which the edge
 * ended unanswered, is amended from here (`voicemail`: answered at the 200, over with the message).
 *
 *   INVITE (held) -> 200 with rtpengine's SDP;  greeting;  recording;  BYE either side -> report
 */
import { voicemailFileKey, VOICEMAIL_MIN_MS, type SipDevice, type VoicemailDeposit } from '@callstack/protocol';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { EdgeClient } from './EdgeClient.ts';
import { CARRIER_TAG, type MediaAnchor } from './MediaAnchor.ts';
import { endDialog } from './bridge.ts';
import { recorderCodecFor, VoicemailRecorder } from './VoicemailRecorder.ts';

export interface VoicemailSettings {
  /** Where messages are kept, as `<dir>/<tenantId>/<callId>.ogg` (the file key). */
  dir: string;
  /** The greeting rtpengine plays (a path it can read). */
  greeting: string;
  /** The address the recorders listen on, which rtpengine sends to. */
  ip: string;
  ports: { min: number; max: number };
}

export interface VoicemailServices {
  srf: Srf;
  edge: EdgeClient;
  anchor: MediaAnchor;
  log: Logger;
  voicemail: VoicemailSettings;
}

const run = promisify(execFile);

export class Voicemail {
  private readonly log: Logger;
  private dialog: Srf.Dialog | null = null;
  private hungUp = false;

  constructor(
    private readonly services: VoicemailServices,
    private readonly line: SipDevice,
    private readonly callId: string,
    private readonly deposit: VoicemailDeposit,
  ) {
    this.log = services.log.child({ callId, tenantId: line.tenantId, voicemail: true });
  }

  /** rtpengine's session for the message (the ringing call's is gone with it). */
  get key(): string {
    return `vm:${this.callId}`;
  }

  /** Takes the message; never throws (each failure ends the call and is logged). */
  async take(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const { anchor, srf, voicemail } = this.services;
    const greeting = this.ownGreeting();
    const codec = recorderCodecFor(req.body);
    let recorder: VoicemailRecorder;
    try {
      recorder = await VoicemailRecorder.reserve({
        ip: voicemail.ip,
        ports: voicemail.ports,
        codec: codec ?? { payloadType: 0, name: 'PCMU' },
        path: join(voicemail.dir, voicemailFileKey(this.line.tenantId, this.callId)),
        log: this.log,
      });
      await anchor.offerToRecorder(this.key, req.body, codec === null);
      const sdp = await anchor.recorderAnswerToCarrier(this.key, recorder.sdp);
      this.dialog = await srf.createUAS(req, res, { localSdp: sdp });
    } catch (error) {
      // The call's record already says it ended unanswered, as the caller now hears.
      this.log.error({ err: error }, 'sip.voicemail_failed');
      if (!res.finalResponseSent) res.send(480);
      void anchor.release(this.key);
      void greeting.then((file) => (file ? rm(file, { force: true }) : undefined));
      return;
    }
    const answeredAt = Date.now();
    const dialog = this.dialog;
    const hungUp = new Promise<void>((resolve) =>
      dialog.on('destroy', () => {
        this.hungUp = true;
        resolve();
      }),
    );
    this.log.info('sip.voicemail_answered');
    const own = await greeting;
    try {
      const greetingMs = await anchor.play(this.key, CARRIER_TAG, own ?? voicemail.greeting);
      await Promise.race([hungUp, new Promise((resolve) => setTimeout(resolve, greetingMs))]);
      if (!this.hungUp) await recorder.record(this.deposit.maxSeconds);
    } catch (error) {
      this.log.error({ err: error }, 'sip.voicemail_failed');
    } finally {
      if (own) void rm(own, { force: true });
    }
    // The caller hangs up, or the recorder ends the message (silence, the longest one): then we do.
    const message = await recorder.finish();
    this.close();
    await this.report(answeredAt);
    if (message.durationMs < VOICEMAIL_MIN_MS) {
      this.log.info({ durationMs: message.durationMs }, 'sip.voicemail_empty');
      return recorder.discard();
    }
    try {
      await this.services.edge.voicemail({
        callId: this.callId,
        tenantId: this.line.tenantId,
        fileKey: voicemailFileKey(this.line.tenantId, this.callId),
        contentType: 'audio/ogg',
        startedAt: message.startedAt,
        durationMs: message.durationMs,
        sizeBytes: message.sizeBytes,
      });
      this.log.info({ durationMs: message.durationMs, sizeBytes: message.sizeBytes }, 'sip.voicemail_recorded');
    } catch (error) {
      // The file stays: an operator finds it by this log line and its key.
      this.log.error({ err: error, path: message.path }, 'sip.voicemail_unreported');
    }
  }

  /**
   * The mailbox owner's own greeting as a file rtpengine plays (8 kHz WAV, converted by ffmpeg from
   * whatever they uploaded); null when they have none or it cannot be had (the default plays).
   */
  private async ownGreeting(): Promise<string | null> {
    try {
      const greeting = await this.services.edge.greeting(this.line.tenantId, this.deposit.mailbox);
      if (!greeting) return null;
      const dir = join(this.services.voicemail.dir, '.greetings');
      await mkdir(dir, { recursive: true });
      const upload = join(dir, `${this.callId}.upload`);
      const playable = join(dir, `${this.callId}.wav`);
      await writeFile(upload, Buffer.from(greeting.audio, 'base64'));
      try {
        await run('ffmpeg', ['-v', 'error', '-y', '-i', upload, '-ar', '8000', '-ac', '1', '-c:a', 'pcm_s16le', playable]);
      } finally {
        await rm(upload, { force: true });
      }
      return playable;
    } catch (error) {
      this.log.warn({ err: error }, 'sip.voicemail_greeting_unavailable');
      return null;
    }
  }

  private close(): void {
    void this.services.anchor.release(this.key);
    if (this.dialog && !this.hungUp) endDialog(this.dialog, this.log);
  }

  /** The call's record: answered by voicemail, over now. */
  private async report(answeredAt: number): Promise<void> {
    try {
      await this.services.edge.pstnEvent({ event: 'voicemail', callId: this.callId, tenantId: this.line.tenantId, answeredAt, endedAt: Date.now() });
    } catch (error) {
      this.log.warn({ err: error }, 'sip.pstn_event_lost');
    }
  }
}
