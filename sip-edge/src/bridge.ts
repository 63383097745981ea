/** What every bridged call shares: the services it drives, and ordered handling of the edge's messages. */
import type { ServerMessage, SipDevice } from '@callstack/protocol';
import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { QUALITY_REPORT_INTERVAL_MS, qualityReportOf } from './callQuality.ts';
import type { EdgeClient } from './EdgeClient.ts';
import { BROWSER_TAG, MediaUnavailable, PHONE_TAG, type MediaAnchor } from './MediaAnchor.ts';

/** How long the browser may take to answer a phone's re-INVITE before the phone gets 488. */
const REOFFER_TIMEOUT_MS = 8_000;

export interface BridgeServices {
  srf: Srf;
  edge: EdgeClient;
  anchor: MediaAnchor;
  log: Logger;
  realm: string;
  /** Kamailio's URI: calls to phones go through it. */
  proxy: string;
  /** Tells the gateway the call's leg is over, so it forgets it (by `CallBridge.key`). */
  finished(key: string): void;
}

/**
 * One call between a SIP phone and the edge, by the edge's call id. Once both legs are up
 * (`connected`), this base carries the mid-call part for both directions: re-offers from either
 * side (hold and resume, with the directions each side asked for), SIP INFO, the phone's BYE, and
 * the quality reports.
 */
export abstract class CallBridge {
  private queue: Promise<void> = Promise.resolve();
  private qualityTimer: NodeJS.Timeout | undefined;
  /** A phone's re-INVITE waiting for the browser's answer. */
  private reoffer: { res: Srf.SrfResponse; timer: NodeJS.Timeout } | null = null;
  protected dialog: Srf.Dialog | null = null;
  protected ended = false;
  protected readonly log: Logger;

  constructor(
    protected readonly services: BridgeServices,
    readonly callId: string,
    protected readonly device: SipDevice,
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
    this.queue = this.queue
      .then(() => (this.dialog && !this.ended ? this.midCall(message) : this.onMessage(message)))
      .catch((error: unknown) => this.log.error({ err: error, type: message.type }, 'sip.bridge_failed'));
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
   * The phone's blind transfer (REFER, RFC 3515): the edge finds the target in the caller's
   * organisation and asks the other party to call it; the phone hears how it went by NOTIFY.
   */
  private async phoneTransfers(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const referTo = /<?(sips?:[^>;]+)/.exec(req.get('Refer-To') ?? '')?.[1];
    const target = referTo ? Srf.parseUri(referTo)?.user : undefined;
    if (!target || req.has('Replaces') || /Replaces=/i.test(req.get('Refer-To') ?? '')) return void res.send(target ? 501 : 400);
    let route;
    try {
      route = await this.services.edge.route(this.device.username, decodeURIComponent(target));
    } catch {
      return void res.send(503);
    }
    if (!route) return void res.send(404);
    res.send(202);
    await this.notifyTransfer('SIP/2.0 100 Trying', 'active;expires=60');
    const done = await this.tell({ type: 'call.transfer', ref: 'transfer', callId: this.callId, to: route.callee.userId });
    await this.notifyTransfer(done ? 'SIP/2.0 200 OK' : 'SIP/2.0 503 Service Unavailable', 'terminated;reason=noresource');
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
        this.finish();
        if (message.transferTo) await this.referPhone(message.transferTo);
        this.dialog?.destroy();
        return;
      case 'call.answer':
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

export function bridgeKey(deviceId: string, callId: string): string {
  return `${deviceId}:${callId}`;
}
