/** What every bridged call shares: the services it drives, and ordered handling of the edge's messages. */
import type { Party, ServerMessage, SipDevice } from '@callstack/protocol';
import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { QUALITY_REPORT_INTERVAL_MS, qualityReportOf } from './callQuality.ts';
import type { EdgeClient } from './EdgeClient.ts';
import type { TrunkHealth } from './TrunkHealth.ts';
import { BROWSER_TAG, MediaUnavailable, PHONE_TAG, type MediaAnchor } from './MediaAnchor.ts';

/** How long the browser may take to answer a phone's re-INVITE before the phone gets 488. */
const REOFFER_TIMEOUT_MS = 8_000;

export interface BridgeServices {
  srf: Srf;
  edge: EdgeClient;
  anchor: MediaAnchor;
  /** Which carrier trunks answer their probes (a browser's call to a number tries those first). */
  health: TrunkHealth;
  log: Logger;
  realm: string;
  /** Kamailio's URI: calls to phones go through it. */
  proxy: string;
  /** Tells the gateway the call's leg is over, so it forgets it (by `CallBridge.key`). */
  finished(key: string): void;
  /** The leg now serves another edge call (attended transfer): the gateway files it under its new key. */
  moved(bridge: CallBridge, previousKey: string): void;
  /** This device's leg whose SIP dialog has this Call-ID: the dialog a phone's REFER with Replaces names. */
  legBySipCallId(deviceId: string, sipCallId: string): CallBridge | undefined;
}

/**
 * One call between a SIP phone and the edge, by the edge's call id. Once both legs are up
 * (`connected`), this base carries the mid-call part for both directions: re-offers from either
 * side (hold and resume, with the directions each side asked for), SIP INFO, the phone's BYE,
 * transfers and the quality reports.
 *
 * Attended transfer moves a connected leg to a new edge call (`adopt`), the phone's dialog staying
 * as it is: the phone being transferred, or the one taking the transfer, needs no support for it
 * and only sees a re-INVITE with an SDP offer (offerless re-INVITEs, whose answer comes in the ACK,
 * are not understood by every phone). Its media gets a fresh rtpengine session under the new
 * call's key. The leg that places the new call offers, from the phone's last SDP.
 */
export abstract class CallBridge {
  private queue: Promise<void> = Promise.resolve();
  private qualityTimer: NodeJS.Timeout | undefined;
  /** A phone's re-INVITE waiting for the browser's answer. */
  private reoffer: { res: Srf.SrfResponse; timer: NodeJS.Timeout } | null = null;
  /** The leg moved to a call it placed (the transferee): first the callee's accept, then its answer. */
  private placing: 'accept' | 'answer' | null = null;
  protected dialog: Srf.Dialog | null = null;
  protected ended = false;
  protected log: Logger;

  constructor(
    protected readonly services: BridgeServices,
    public callId: string,
    readonly device: SipDevice,
    /** The other party of the call, once known. */
    public peer: Party | null,
  ) {
    this.log = services.log.child({ callId, tenantId: device.tenantId, userId: device.userId });
  }

  /**
   * Both legs of a phone-to-phone call may run on one gateway under the same call id: a leg is its
   * device's, in the gateway's table and as rtpengine's call id.
   */
  get key(): string {
    return bridgeKey(this.device.deviceId, this.callId);
  }

  /** The edge's messages for this call, handled one at a time in the order they came. */
  deliver(message: ServerMessage): void {
    this.queued(() => (this.dialog && !this.ended ? this.midCall(message) : this.onMessage(message)), message.type);
  }

  /** Work for this call, in turn with the edge's messages. */
  protected queued(work: () => Promise<void>, what: string): void {
    this.queue = this.queue.then(work).catch((error: unknown) => this.log.error({ err: error, what }, 'sip.bridge_failed'));
  }

  protected abstract onMessage(message: ServerMessage): Promise<void>;

  /** Work started by a SIP event: a failure is logged with the call's ids, never left unhandled. */
  private guard(work: Promise<void>, what: string): void {
    work.catch((error: unknown) => this.log.error({ err: error, what }, 'sip.bridge_failed'));
  }

  /** A client message for this call, as the SIP device; false when the edge refused it. */
  protected async tell(message: Parameters<EdgeClient['send']>[1]): Promise<boolean> {
    try {
      const reply = await this.services.edge.send(this.device, message);
      if (reply.type !== 'error') return true;
      this.log.info({ type: message.type, code: reply.code, reason: reply.message }, 'sip.edge_refused');
      return false;
    } catch (error) {
      this.log.warn({ err: error, type: message.type }, 'sip.edge_unreachable');
      return false;
    }
  }

  /** Both legs are up: from now on the phone's side of the media is rated like a browser's. */
  protected connected(dialog: Srf.Dialog): void {
    this.dialog = dialog;
    this.log.info('sip.connected');
    this.qualityTimer = setInterval(() => this.guard(this.reportQuality(), 'quality'), QUALITY_REPORT_INTERVAL_MS);
    dialog.on('destroy', () => {
      if (!this.ended) this.guard(this.phoneHungUp(), 'bye');
    });
    dialog.on('modify', (req, res) => this.guard(this.phoneReoffered(req, res), 'reoffer'));
    // DTMF as SIP INFO is accepted (RFC 6086); browsers cannot play it, so it goes no further.
    dialog.on('info', (_req, res) => res.send(200));
    dialog.on('refer', (req, res) => this.guard(this.phoneTransfers(req, res), 'transfer'));
  }

  /**
   * The phone's transfer (REFER, RFC 3515), answered 202 with progress by NOTIFY. Blind: the edge
   * finds the target in the caller's organisation and asks the other party to call it. Attended
   * (the Refer-To carries `Replaces`, RFC 3891): it names this phone's consultation call, whose
   * other party is the target, and the other party here takes its place there.
   */
  private async phoneTransfers(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const referTo = req.get('Refer-To') ?? '';
    const uri = /<?(sips?:[^>;?]+)/.exec(referTo)?.[1];
    const target = uri ? Srf.parseUri(uri)?.user : undefined;
    const replaces = /[?&]Replaces=([^&>]+)/i.exec(referTo)?.[1];
    if (!target) return void res.send(400);
    let transfer: { to: string; replaces?: string };
    if (replaces) {
      const sipCallId = decodeURIComponent(replaces).split(';')[0] ?? '';
      const consultation = this.services.legBySipCallId(this.device.deviceId, sipCallId);
      // Only a consultation of this phone's own, on this gateway, with a known other party.
      if (!consultation?.peer || consultation === this) return void res.send(481);
      transfer = { to: consultation.peer.userId, replaces: consultation.callId };
    } else {
      let route;
      try {
        route = await this.services.edge.route(this.device.username, decodeURIComponent(target));
      } catch {
        return void res.send(503);
      }
      if (!route) return void res.send(404);
      if (route.kind === 'refused') return void res.send(route.sipStatus);
      if (route.kind === 'pstn') {
        // Transfers go to colleagues only for now: the call the edge admitted is given back at once.
        void this.services.edge
          .pstnEvent({ event: 'ended', callId: route.callId, tenantId: route.caller.tenantId, at: Date.now(), finalStatus: 403, hangupCause: 'declined' })
          .catch(() => undefined);
        return void res.send(403);
      }
      transfer = { to: route.callee.userId };
    }
    res.send(202);
    await this.notifyTransfer('SIP/2.0 100 Trying', 'active;expires=60');
    const done = await this.tell({ type: 'call.transfer', ref: 'transfer', callId: this.callId, ...transfer });
    await this.notifyTransfer(done ? 'SIP/2.0 200 OK' : 'SIP/2.0 503 Service Unavailable', 'terminated;reason=noresource');
  }

  /** The SIP Call-ID of the phone's dialog, once connected. */
  get sipCallId(): string | null {
    return this.dialog?.sip.callId ?? null;
  }

  /**
   * Attended transfer, the phone taking it: `call.incoming {replaces}` names this leg's call; the
   * leg moves to the new call and accepts it. The caller's offer then comes as a re-offer
   * (`call.offer`), which reaches the phone as a re-INVITE.
   */
  private async takeOver(incoming: Extract<ServerMessage, { type: 'call.incoming' }>): Promise<void> {
    await this.adopt(incoming.callId, incoming.from);
    if (!(await this.tell({ type: 'call.accept', ref: 'accept', callId: this.callId }))) this.hangUp();
  }

  /** Attended transfer, the phone being transferred: this leg places the call to the target itself. */
  private async placeTransferredCall(to: Party, replaces: string): Promise<void> {
    await this.adopt(crypto.randomUUID(), to);
    this.placing = 'accept';
    const invited = await this.tell({ type: 'call.invite', ref: 'invite', callId: this.callId, to: to.userId, media: { audio: true, video: false }, replaces });
    if (!invited) this.hangUp();
  }

  /** The leg now serves `callId`: a new key, a new rtpengine session (the old one is released). */
  private async adopt(callId: string, peer: Party): Promise<void> {
    const previousKey = this.key;
    this.callId = callId;
    this.peer = peer;
    this.log = this.services.log.child({ callId, tenantId: this.device.tenantId, userId: this.device.userId });
    this.services.moved(this, previousKey);
    await this.services.anchor.release(previousKey);
    this.log.info({ previousKey }, 'sip.leg_moved');
  }

  /**
   * The callee of the call this leg placed accepted: the offer is made from the phone's last SDP
   * (two-way again, as the transferor may have held it), with the phone's address as it is.
   */
  private async transferredCallAccepted(): Promise<void> {
    this.placing = 'answer';
    try {
      const offer = await this.services.anchor.offerToBrowser(this.key, twoWay(this.dialog!.remote.sdp));
      if (!(await this.tell({ type: 'call.offer', ref: 'offer', callId: this.callId, sdp: offer }))) this.hangUp();
    } catch (error) {
      if (!(error instanceof MediaUnavailable)) throw error;
      this.log.error({ err: error }, 'sip.media_unavailable');
      this.hangUp();
    }
  }

  /** The callee answered: the phone gets the new media address in a re-INVITE (its answer changes nothing). */
  private async transferredCallAnswered(calleeSdp: string): Promise<void> {
    this.placing = null;
    try {
      await this.dialog!.modify(await this.services.anchor.answerToPhone(this.key, calleeSdp));
    } catch (error) {
      this.log.warn({ err: error }, 'sip.reoffer_failed');
      this.hangUp();
    }
  }

  /** Ends this leg on both sides: the edge call and the phone's dialog. */
  private hangUp(): void {
    if (this.ended) return;
    this.finish();
    void this.tell({ type: 'call.hangup', ref: 'hangup', callId: this.callId });
    endDialog(this.dialog, this.log);
  }

  private async notifyTransfer(sipfrag: string, state: string): Promise<void> {
    await this.dialog
      ?.request({
        method: 'NOTIFY',
        headers: { Event: 'refer', 'Subscription-State': state, 'Content-Type': 'message/sipfrag;version=2.0' },
        body: sipfrag,
      } as unknown as Srf.SrfRequest)
      .catch((error: unknown) => this.log.info({ err: error }, 'sip.notify_failed'));
  }

  /** The edge asks this phone to call someone else (the other party transferred it): a REFER to the phone. */
  private async referPhone(to: { userId: string }): Promise<void> {
    await this.dialog
      ?.request({ method: 'REFER', headers: { 'Refer-To': `<sip:${to.userId}@${this.services.realm}>` } } as unknown as Srf.SrfRequest)
      .catch((error: unknown) => this.log.warn({ err: error }, 'sip.refer_failed'));
  }

  /** The edge's messages once connected: the end, and SDP either side offers again. */
  private async midCall(message: ServerMessage): Promise<void> {
    switch (message.type) {
      case 'call.ended':
        if (message.transferTo && message.replaces) return this.placeTransferredCall(message.transferTo, message.replaces);
        this.finish();
        if (message.transferTo) await this.referPhone(message.transferTo);
        endDialog(this.dialog, this.log);
        return;
      case 'call.incoming':
        if (message.replaces === this.callId) await this.takeOver(message);
        return;
      case 'call.accepted':
        if (this.placing === 'accept') await this.transferredCallAccepted();
        return;
      case 'call.answer':
        if (this.placing === 'answer') return this.transferredCallAnswered(message.sdp);
        return this.browserAnswered(message.sdp);
      case 'call.offer':
        return this.browserReoffered(message.sdp);
      default:
        return;
    }
  }

  private async phoneReoffered(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    if (this.reoffer) return void res.send(491);
    let sdp: string;
    try {
      sdp = await this.services.anchor.offerToBrowser(this.key, req.body);
    } catch (error) {
      if (!(error instanceof MediaUnavailable)) throw error;
      this.log.error({ err: error }, 'sip.media_unavailable');
      return void res.send(488);
    }
    const timer = setTimeout(() => {
      if (this.reoffer?.res !== res) return;
      this.reoffer = null;
      res.send(488);
    }, REOFFER_TIMEOUT_MS);
    this.reoffer = { res, timer };
    if (!(await this.tell({ type: 'call.offer', ref: 'reoffer', callId: this.callId, sdp })) && this.reoffer?.res === res) {
      clearTimeout(timer);
      this.reoffer = null;
      res.send(488);
    }
  }

  private async browserAnswered(browserSdp: string): Promise<void> {
    const pending = this.reoffer;
    if (!pending) return;
    this.reoffer = null;
    clearTimeout(pending.timer);
    try {
      pending.res.send(200, { body: await this.services.anchor.answerToPhone(this.key, browserSdp) });
    } catch (error) {
      if (!(error instanceof MediaUnavailable)) throw error;
      pending.res.send(488);
    }
  }

  /** The browser offers again (hold, resume): a re-INVITE to the phone, its answer back. */
  private async browserReoffered(browserSdp: string): Promise<void> {
    const dialog = this.dialog;
    if (!dialog) return;
    try {
      const phoneAnswer = await dialog.modify(await this.services.anchor.offerToPhone(this.key, browserSdp));
      const sdp = await this.services.anchor.answerToBrowser(this.key, phoneAnswer);
      await this.tell({ type: 'call.answer', ref: 'reanswer', callId: this.callId, sdp });
    } catch (error) {
      // The phone refused the change (or rtpengine failed): the call goes on as it was.
      this.log.warn({ err: error }, 'sip.reoffer_failed');
    }
  }

  /** The phone's BYE: its last RTCP figures are rated while the call is still up, then the hang-up. */
  private async phoneHungUp(): Promise<void> {
    await this.reportQuality();
    if (this.ended) return;
    this.finish();
    await this.tell({ type: 'call.hangup', ref: 'bye', callId: this.callId });
  }

  private async reportQuality(): Promise<void> {
    const query = await this.services.anchor.query(this.key);
    const report =
      query && qualityReportOf(query, { callId: this.callId, phoneTag: PHONE_TAG, browserTag: BROWSER_TAG, intervalMs: QUALITY_REPORT_INTERVAL_MS });
    if (report && !this.ended) await this.tell(report);
  }

  protected finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.qualityTimer);
    if (this.reoffer) clearTimeout(this.reoffer.timer);
    void this.services.anchor.release(this.key);
    this.services.finished(this.key);
  }
}

/** An SDP with every media two-way: a held phone's last answer, offered again after a transfer. */
function twoWay(sdp: string): string {
  return sdp.replace(/^a=(sendonly|recvonly|inactive)(?=\r?$)/gm, 'a=sendrecv');
}

/**
 * Ends a dialog with a BYE. One the other side already ended (its BYE crossing ours: drachtio's
 * ENODIALOG) is no failure; without a callback drachtio-srf would reject a promise nobody awaits,
 * and the process would exit on it.
 */
export function endDialog(dialog: Srf.Dialog | null | undefined, log: Logger): void {
  dialog?.destroy(undefined, (error: unknown) => {
    if (error) log.info({ err: error }, 'sip.dialog_already_ended');
  });
}

export function bridgeKey(deviceId: string, callId: string): string {
  return `${deviceId}:${callId}`;
}
