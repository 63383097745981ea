/**
 * A call to a phone: `call.incoming` for the account's SIP device becomes an INVITE through
 * Kamailio (which forks it to every registered phone of the account). The INVITE carries no SDP,
 * so the phone offers in its 200 OK; that offer goes through rtpengine to the browser with
 * `call.accept`, and the browser's answer goes back to the phone in the ACK.
 *
 *   call.incoming -> INVITE;  200 -> call.accept {sdp};  call.answer -> ACK;  BYE -> call.hangup
 *   4xx-6xx -> call.reject;   call.ended -> CANCEL or BYE (answered elsewhere, caller hung up)
 */
import type { ServerMessage, SipDevice } from '@callstack/protocol';
import type Srf from 'drachtio-srf';
import { CallBridge, type BridgeServices } from './bridge.ts';
import { MediaUnavailable } from './MediaAnchor.ts';
import { quotable } from './sipText.ts';
import { onRequestSent } from './requestSent.ts';

/** What drachtio-srf's createUAC resolves with when it leaves the ACK to us (noAck). */
export interface UnacknowledgedAnswer {
  sdp: string;
  ack(sdp: string): Promise<Srf.Dialog>;
  destroy(): Promise<void>;
}

export type Incoming = Extract<ServerMessage, { type: 'call.incoming' }>;

export class WebCall extends CallBridge {
  /** The INVITE in flight (a CANCEL ends it). */
  protected invite: Srf.SrfRequest | null = null;
  private answered: UnacknowledgedAnswer | null = null;

  constructor(
    services: BridgeServices,
    device: SipDevice,
    private readonly incoming: Incoming,
  ) {
    super(services, incoming.callId, device, incoming.from);
  }

  /** Rings the phone (called once the call is in the gateway's table). */
  start(): void {
    this.ring(this.incoming).catch((error: unknown) => {
      this.log.error({ err: error }, 'sip.bridge_failed');
      if (this.ended) return;
      this.finish();
      void this.answered?.destroy();
      void this.tell({ type: 'call.hangup', ref: 'hangup', callId: this.callId });
    });
  }

  /**
   * The offerless INVITE (the phone offers in its 200 OK, which the browser answers in the ACK):
   * to every registered contact of the account, through Kamailio.
   */
  protected async sendInvite(incoming: Incoming): Promise<UnacknowledgedAnswer> {
    const { srf, proxy, realm } = this.services;
    return (await srf.createUAC(
      `sip:${this.device.username}@${realm}`,
      { proxy, noAck: true, callingNumber: 'callstack', callingName: displayName(incoming.from.displayName) } as Srf.CreateUACOptions,
      { cbRequest: onRequestSent((req) => (this.invite = req)) },
    )) as unknown as UnacknowledgedAnswer;
  }

  private async ring(incoming: Incoming): Promise<void> {
    try {
      this.answered = await this.sendInvite(incoming);
    } catch (error) {
      if (this.ended) return;
      const status = (error as { status?: number }).status;
      this.log.info({ status }, 'sip.phone_declined');
      this.finish();
      await this.tell({ type: 'call.reject', ref: 'reject', callId: this.callId, ...(status ? { sipStatus: status } : {}) });
      return;
    }
    if (this.ended) return void this.answered.destroy();
    let offer: string;
    try {
      offer = await this.services.anchor.offerToBrowser(this.key, this.answered.sdp);
    } catch (error) {
      return this.mediaFailed(error, this.answered);
    }
    if (!(await this.tell({ type: 'call.accept', ref: 'accept', callId: this.callId, sdp: offer }))) {
      // Answered elsewhere first, or the caller gave up meanwhile.
      this.finish();
      void this.answered.destroy();
    }
  }

  protected async onMessage(message: ServerMessage): Promise<void> {
    if (this.ended) return;
    switch (message.type) {
      case 'call.answer':
        return this.connect(message.sdp);
      case 'call.ended':
        this.finish();
        if (this.answered) void this.answered.destroy();
        else this.invite?.cancel(() => undefined);
        return;
      default:
        return;
    }
  }

  private async connect(browserSdp: string): Promise<void> {
    if (!this.answered) return;
    let sdp: string;
    try {
      sdp = await this.services.anchor.answerToPhone(this.key, browserSdp);
    } catch (error) {
      return this.mediaFailed(error, this.answered);
    }
    this.connected(await this.answered.ack(sdp));
  }

  /** rtpengine could not anchor the media: the phone's answered leg is ended, and the call with it (never a call without audio). */
  private async mediaFailed(error: unknown, answered: UnacknowledgedAnswer): Promise<void> {
    if (!(error instanceof MediaUnavailable)) throw error;
    this.log.error({ err: error }, 'sip.media_unavailable');
    this.finish();
    void answered.destroy();
    await this.tell({ type: 'call.hangup', ref: 'hangup', callId: this.callId });
  }
}

/** A display name for From (never empty). */
export function displayName(name: string): string {
  return quotable(name, 64) || 'CallStack';
}
