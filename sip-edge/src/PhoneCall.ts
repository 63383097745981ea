/**
 * A call a phone places: its INVITE (with the phone's SDP offer) becomes `call.invite` from the
 * phone's SIP device. Ringing gives 180; once the callee accepts, the phone's offer goes through
 * rtpengine to the browser as `call.offer`, and the browser's answer comes back as the 200 OK.
 *
 *   INVITE -> call.invite;  call.ringing -> 180;  call.accepted -> call.offer;  call.answer -> 200
 *   CANCEL -> call.cancel;  BYE -> call.hangup;   call.ended -> final response or BYE
 *
 * When the callee is a phone too, it offered in its own 200 OK and `call.accepted` carries that
 * offer: both sides have offered. The callee's offer, through rtpengine towards this phone, then
 * serves as the answer to this phone's INVITE, and this phone's offer as its answer back.
 */
import { sipStatusForEndReason, type ErrorCode, type Party, type ServerMessage, type SipDevice } from '@callstack/protocol';
import type Srf from 'drachtio-srf';
import { CallBridge, endDialog, type BridgeServices } from './bridge.ts';
import { MediaUnavailable } from './MediaAnchor.ts';
import { statusForRefusal } from './sipCodes.ts';
import type { Voicemail } from './Voicemail.ts';

export class PhoneCall extends CallBridge {
  constructor(
    services: BridgeServices,
    callId: string,
    device: SipDevice,
    private readonly req: Srf.SrfRequest,
    private readonly res: Srf.SrfResponse,
    callee: Party,
  ) {
    super(services, callId, device, callee);
  }

  async start(): Promise<void> {
    this.req.on('cancel', () => {
      if (this.ended) return;
      this.finish();
      void this.tell({ type: 'call.cancel', ref: 'cancel', callId: this.callId, sipStatus: 487 });
    });
    let reply;
    try {
      reply = await this.services.edge.send(this.device, {
        type: 'call.invite',
        ref: 'invite',
        callId: this.callId,
        to: this.peer!.userId,
        media: { audio: true, video: false },
      });
    } catch (error) {
      this.log.warn({ err: error }, 'sip.edge_unreachable');
      return this.refuse(503);
    }
    if (reply.type === 'error') {
      this.log.info({ code: reply.code, reason: reply.message }, 'sip.invite_refused');
      this.refuse(statusForRefusal(reply.code as ErrorCode));
    }
  }

  /** The edge ended this call unanswered and sends the caller to voicemail: the INVITE is answered there. */
  leaveMessage(voicemail: Voicemail): void {
    this.queued(async () => {
      if (this.ended || this.res.finalResponseSent) return;
      this.finish();
      await voicemail.take(this.req, this.res);
    }, 'voicemail');
  }

  protected async onMessage(message: ServerMessage): Promise<void> {
    if (this.ended) return;
    switch (message.type) {
      case 'call.ringing':
        if (!this.res.finalResponseSent) this.res.send(180);
        return;
      case 'call.accepted':
        return message.sdp ? this.answerCalleesOffer(message.sdp) : this.offerToCallee();
      case 'call.answer':
        return this.connect(message.sdp);
      case 'call.ended':
        this.finish();
        if (!this.res.finalResponseSent) this.res.send(sipStatusForEndReason(message.reason));
        return;
      default:
        // Trickled ICE is not needed: rtpengine learns the browser's address from its checks.
        return;
    }
  }

  private async offerToCallee(): Promise<void> {
    let sdp: string;
    try {
      sdp = await this.services.anchor.offerToBrowser(this.key, this.req.body);
    } catch (error) {
      return this.mediaFailed(error);
    }
    if (!(await this.tell({ type: 'call.offer', ref: 'offer', callId: this.callId, sdp }))) await this.hangUpEdge(500);
  }

  private async answerCalleesOffer(calleeSdp: string): Promise<void> {
    let answerToPhone: string;
    let answerToCallee: string;
    try {
      answerToPhone = await this.services.anchor.offerToPhone(this.key, calleeSdp);
      answerToCallee = await this.services.anchor.answerToBrowser(this.key, this.req.body);
    } catch (error) {
      return this.mediaFailed(error);
    }
    let dialog: Srf.Dialog;
    try {
      dialog = await this.services.srf.createUAS(this.req, this.res, { localSdp: answerToPhone });
    } catch (error) {
      this.log.warn({ err: error }, 'sip.answer_failed');
      return this.hangUpEdge();
    }
    this.connected(dialog);
    if (!(await this.tell({ type: 'call.answer', ref: 'answer', callId: this.callId, sdp: answerToCallee }))) {
      this.finish();
      endDialog(dialog, this.log);
    }
  }

  private async connect(browserSdp: string): Promise<void> {
    let sdp: string;
    try {
      sdp = await this.services.anchor.answerToPhone(this.key, browserSdp);
    } catch (error) {
      return this.mediaFailed(error);
    }
    let dialog: Srf.Dialog;
    try {
      dialog = await this.services.srf.createUAS(this.req, this.res, { localSdp: sdp });
    } catch (error) {
      this.log.warn({ err: error }, 'sip.answer_failed');
      return this.hangUpEdge();
    }
    this.connected(dialog);
  }

  /** rtpengine could not anchor the media: 503, never a call without audio. */
  private async mediaFailed(error: unknown): Promise<void> {
    if (!(error instanceof MediaUnavailable)) throw error;
    this.log.error({ err: error }, 'sip.media_unavailable');
    await this.hangUpEdge(503);
  }

  private async hangUpEdge(status = 500): Promise<void> {
    this.refuse(status);
    await this.tell({ type: 'call.hangup', ref: 'hangup', callId: this.callId });
  }

  private refuse(status: number): void {
    this.finish();
    if (!this.res.finalResponseSent) this.res.send(status);
  }
}
