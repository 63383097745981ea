/**
 * rtpengine, driven over its NG protocol: it anchors every call's media between the phone (plain
 * RTP, its own codecs) and the browser (ICE, DTLS-SRTP, rtcp-mux). The phone makes the first offer
 * in rtpengine's terms (its INVITE, or its 200 OK to our offerless INVITE): one `offer` (phone SDP
 * -> browser SDP) and one `answer` (browser SDP -> phone SDP). Either side may offer again mid-call
 * (hold, resume): a re-INVITE from the phone goes the same way, a browser's new offer the other
 * way. The browser picks from the phone's codecs, so nothing is transcoded unless they share none.
 */
import { Client, type NgOptions, type NgResponse } from 'rtpengine-client';

export const PHONE_TAG = 'phone';
export const BROWSER_TAG = 'browser';
/** The carrier's side of a call to or from the outside: plain RTP, like a phone's. */
export const CARRIER_TAG = 'carrier';
/** The voicemail recorder's side (an ffmpeg on this node) when a caller leaves a message. */
export const RECORDER_TAG = 'recorder';
const COMMON = { replace: ['origin', 'session-connection'], 'record call': 'no' };
const TO_BROWSER = { ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['offer'], SDES: ['off'], flags: ['generate-mid'] };
const TO_PHONE = { ICE: 'remove', 'transport-protocol': 'RTP/AVP', 'rtcp-mux': ['demux'] };

export class MediaUnavailable extends Error {
  override readonly name = 'MediaUnavailable';
}

export class MediaAnchor {
  private readonly client = new Client({ timeout: 2_000 });

  constructor(private readonly target: { host: string; port: number }) {}

  /** The phone's offer as the browser can take it. */
  offerToBrowser(callId: string, phoneSdp: string): Promise<string> {
    return this.command('offer', { ...COMMON, ...TO_BROWSER, 'call-id': callId, 'from-tag': PHONE_TAG, sdp: phoneSdp });
  }

  /** The browser's answer as the phone can take it. */
  answerToPhone(callId: string, browserSdp: string): Promise<string> {
    return this.command('answer', { ...COMMON, ...TO_PHONE, 'call-id': callId, 'from-tag': PHONE_TAG, 'to-tag': BROWSER_TAG, sdp: browserSdp });
  }

  /** A browser's new offer mid-call (hold, resume) as the phone can take it. */
  offerToPhone(callId: string, browserSdp: string): Promise<string> {
    return this.command('offer', { ...COMMON, ...TO_PHONE, 'call-id': callId, 'from-tag': BROWSER_TAG, 'to-tag': PHONE_TAG, sdp: browserSdp });
  }

  /** The phone's answer to it, for the browser. */
  answerToBrowser(callId: string, phoneSdp: string): Promise<string> {
    return this.command('answer', { ...COMMON, ...TO_BROWSER, 'call-id': callId, 'from-tag': BROWSER_TAG, 'to-tag': PHONE_TAG, sdp: phoneSdp });
  }

  /**
   * A phone's offer towards a carrier trunk (plain RTP both sides, the media anchored here so the
   * carrier never learns the phone's address), keeping only the codecs the trunk takes when the
   * phone has any of them.
   */
  offerToCarrier(callId: string, phoneSdp: string, codecs: readonly string[]): Promise<string> {
    const offered = codecs.filter((codec) => new RegExp(`a=rtpmap:\\d+ ${codec}/`, 'i').test(phoneSdp));
    return this.command('offer', {
      ...COMMON,
      ...TO_PHONE,
      'call-id': callId,
      'from-tag': PHONE_TAG,
      sdp: phoneSdp,
      ...(offered.length > 0 ? { codec: { strip: ['all'], except: [...offered, 'telephone-event'] } } : {}),
    });
  }

  /** The carrier's answer (in its 183 or its 200) as the phone can take it. */
  carrierAnswerToPhone(callId: string, carrierSdp: string): Promise<string> {
    return this.command('answer', { ...COMMON, ...TO_PHONE, 'call-id': callId, 'from-tag': PHONE_TAG, 'to-tag': CARRIER_TAG, sdp: carrierSdp });
  }

  /**
   * A carrier's offer towards the voicemail recorder. `transcode`: the carrier offers neither G.711
   * codec, so rtpengine adds PCMU, which the recorder takes.
   */
  offerToRecorder(callId: string, carrierSdp: string, transcode: boolean): Promise<string> {
    return this.command('offer', {
      ...COMMON,
      ...TO_PHONE,
      'call-id': callId,
      'from-tag': CARRIER_TAG,
      sdp: carrierSdp,
      ...(transcode ? { codec: { transcode: ['PCMU'] } } : {}),
    });
  }

  /** The recorder's SDP as the carrier's answer. */
  recorderAnswerToCarrier(callId: string, recorderSdp: string): Promise<string> {
    return this.command('answer', { ...COMMON, ...TO_PHONE, 'call-id': callId, 'from-tag': CARRIER_TAG, 'to-tag': RECORDER_TAG, sdp: recorderSdp });
  }

  /**
   * Plays `file` (a path rtpengine can read: it runs beside the gateway) to the party `tag`;
   * resolves with its length in ms once playing.
   */
  async play(callId: string, tag: string, file: string): Promise<number> {
    let reply: NgResponse;
    try {
      reply = await this.client.playMedia(this.target.port, this.target.host, { 'call-id': callId, 'from-tag': tag, file });
    } catch (error) {
      throw new MediaUnavailable(`rtpengine play media failed: ${(error as Error).message}`);
    }
    if (reply.result !== 'ok') throw new MediaUnavailable(`rtpengine play media: ${reply['error-reason'] ?? reply.result}`);
    return typeof reply.duration === 'number' ? reply.duration : 0;
  }

  /** Per-stream packet counters and RTCP figures, for the call's quality; null when unknown. */
  async query(callId: string): Promise<NgResponse | null> {
    try {
      const reply = await this.client.query(this.target.port, this.target.host, { 'call-id': callId });
      return reply.result === 'ok' ? reply : null;
    } catch {
      return null;
    }
  }

  async release(callId: string): Promise<void> {
    await this.client.delete(this.target.port, this.target.host, { 'call-id': callId }).catch(() => undefined);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping(this.target.port, this.target.host)).result === 'pong';
    } catch {
      return false;
    }
  }

  close(): void {
    this.client.close();
  }

  private async command(verb: 'offer' | 'answer', options: NgOptions): Promise<string> {
    let reply: NgResponse;
    try {
      reply = await this.client[verb](this.target.port, this.target.host, options);
    } catch (error) {
      throw new MediaUnavailable(`rtpengine ${verb} failed: ${(error as Error).message}`);
    }
    if (reply.result !== 'ok' || typeof reply.sdp !== 'string') {
      throw new MediaUnavailable(`rtpengine ${verb}: ${reply['error-reason'] ?? reply.result}`);
    }
    return reply.sdp;
  }
}
