/**
 * A phone's call to the outside, as the edge admitted it (`SipPstnRoute`): the phone's INVITE is
 * bridged to a carrier trunk with the media anchored in rtpengine, trying the edge's trunks in
 * order (the healthy ones first) and moving to the next on 5xx, 408 or no answer within
 * `TRUNK_SETUP_TIMEOUT_MS`; any other final response is the callee's and goes back to the phone.
 * The carrier's ringing and early media (183 with SDP) reach the phone; the call is cut at the
 * edge's maximum duration. Every step is reported to the edge (`pstnEvent`), the end included.
 *
 *   phone INVITE -> carrier INVITE (E.164 and caller ID as the trunk wants them, RFC 3325/3323
 *   identity and privacy);  180/183 -> the phone;  200 -> 200;  BYE either side -> BYE the other
 */
import type { PstnCallEvent, SipPstnRoute, TrunkAttempt } from '@callstack/protocol';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { EdgeClient } from './EdgeClient.ts';
import { MediaUnavailable, type MediaAnchor } from './MediaAnchor.ts';
import type { TrunkHealth } from './TrunkHealth.ts';
import { endDialog } from './bridge.ts';
import { carrierInvite, failsOver, startSetupTimer } from './carrierInvite.ts';
import { onRequestSent } from './requestSent.ts';

export interface TrunkCallServices {
  srf: Srf;
  edge: EdgeClient;
  anchor: MediaAnchor;
  health: TrunkHealth;
  log: Logger;
  finished(key: string): void;
}

type Ended = Extract<PstnCallEvent, { event: 'ended' }>;

export class TrunkCall {
  private attempt: Srf.SrfRequest | null = null;
  private cancelled = false;
  private ringing = false;
  private earlyMedia = false;
  private ended = false;
  private maxDurationTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly services: TrunkCallServices,
    private readonly route: SipPstnRoute,
    private readonly req: Srf.SrfRequest,
    private readonly res: Srf.SrfResponse,
  ) {
    this.log = services.log.child({ callId: route.callId, tenantId: route.caller.tenantId, userId: route.caller.userId });
  }

  /** The key of the call's rtpengine session and in the gateway's table. */
  get key(): string {
    return `pstn:${this.route.callId}`;
  }

  async start(): Promise<void> {
    this.req.on('cancel', () => {
      this.cancelled = true;
      this.attempt?.cancel(() => undefined);
      void this.end({ finalStatus: 487, hangupCause: 'cancelled' });
    });
    let lastStatus = 503;
    for (const trunk of this.services.health.order(this.route.trunks)) {
      if (this.cancelled) return;
      const outcome = await this.tryTrunk(trunk);
      if (outcome === 'done') return;
      lastStatus = outcome;
    }
    this.log.warn({ lastStatus }, 'sip.trunks_exhausted');
    this.refuse(503);
    await this.end({ finalStatus: lastStatus, hangupCause: 'trunk_failed' });
  }

  /** 'done' when the call was settled on this trunk (answered, refused by the callee, or failed); else the status to fail over on. */
  private async tryTrunk(trunk: TrunkAttempt): Promise<'done' | number> {
    let offer: string;
    try {
      offer = await this.services.anchor.offerToCarrier(this.key, this.req.body, trunk.codecs);
    } catch (error) {
      if (!(error instanceof MediaUnavailable)) throw error;
      this.log.error({ err: error }, 'sip.media_unavailable');
      this.refuse(503);
      await this.end({ finalStatus: 503, hangupCause: 'media_failed' });
      return 'done';
    }
    // Awaited: the record must name the last trunk tried, not whichever report arrived last.
    await this.report({ event: 'trunk', callId: this.route.callId, tenantId: this.route.caller.tenantId, trunkId: trunk.id });
    const setup = startSetupTimer(() => this.attempt?.cancel(() => undefined));
    let carrier: Srf.Dialog;
    const invite = carrierInvite(trunk, this.route.callerId);
    try {
      carrier = await this.services.srf.createUAC(
        invite.uri,
        { ...invite.options, localSdp: offer },
        {
          cbRequest: onRequestSent((request) => (this.attempt = request)),
          cbProvisional: (provisional) => {
            setup.stop();
            void this.progress(provisional);
          },
        },
      );
    } catch (error) {
      setup.stop();
      const status = (error as { status?: number }).status ?? 408;
      if (this.cancelled) return 'done';
      if (failsOver(status, setup.timedOut)) {
        this.log.info({ trunkId: trunk.id, status, timedOut: setup.timedOut }, 'sip.trunk_failover');
        return setup.timedOut ? 408 : status;
      }
      // The callee's answer (busy, declined, not a number there): the phone hears it as it is.
      this.log.info({ trunkId: trunk.id, status }, 'sip.carrier_refused');
      this.refuse(status);
      await this.end({ finalStatus: status, hangupCause: 'declined' });
      return 'done';
    }
    setup.stop();
    await this.connect(carrier);
    return 'done';
  }

  private async progress(provisional: Srf.SrfResponse & { body?: string; status?: number }): Promise<void> {
    if (this.ended || this.res.finalResponseSent) return;
    if (!this.ringing) {
      this.ringing = true;
      void this.report({ event: 'ringing', callId: this.route.callId, tenantId: this.route.caller.tenantId, at: Date.now() });
    }
    if (provisional.body && !this.earlyMedia) {
      // Early media (the carrier's ringback, announcements): the phone hears it before the answer.
      this.earlyMedia = true;
      try {
        this.res.send(183, { body: await this.services.anchor.carrierAnswerToPhone(this.key, provisional.body) });
      } catch (error) {
        this.log.warn({ err: error }, 'sip.early_media_failed');
      }
    } else if (!this.earlyMedia) {
      this.res.send(180);
    }
  }

  private async connect(carrier: Srf.Dialog): Promise<void> {
    if (this.cancelled || this.ended) return endDialog(carrier, this.log);
    let phone: Srf.Dialog;
    try {
      const sdp = await this.services.anchor.carrierAnswerToPhone(this.key, carrier.remote.sdp);
      phone = await this.services.srf.createUAS(this.req, this.res, { localSdp: sdp });
    } catch (error) {
      this.log.warn({ err: error }, 'sip.answer_failed');
      endDialog(carrier, this.log);
      this.refuse(503);
      return this.end({ finalStatus: 200, hangupCause: 'media_failed' });
    }
    this.log.info('sip.pstn_connected');
    void this.report({ event: 'answered', callId: this.route.callId, tenantId: this.route.caller.tenantId, at: Date.now() });
    phone.on('destroy', () => {
      endDialog(carrier, this.log);
      void this.end({ finalStatus: 200, hangupCause: 'caller' });
    });
    carrier.on('destroy', () => {
      endDialog(phone, this.log);
      void this.end({ finalStatus: 200, hangupCause: 'callee' });
    });
    this.maxDurationTimer = setTimeout(() => {
      this.log.info({ maxDurationSeconds: this.route.maxDurationSeconds }, 'sip.pstn_max_duration');
      void this.end({ finalStatus: 200, hangupCause: 'max_duration' });
      endDialog(phone, this.log);
      endDialog(carrier, this.log);
    }, this.route.maxDurationSeconds * 1000);
  }

  private refuse(status: number): void {
    if (!this.res.finalResponseSent) this.res.send(status);
  }

  /** Once: the media is released, the edge told (the call's record, its slot in the limits). */
  private async end(how: Pick<Ended, 'finalStatus' | 'hangupCause'>): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.maxDurationTimer);
    this.services.finished(this.key);
    void this.services.anchor.release(this.key);
    await this.report({ event: 'ended', callId: this.route.callId, tenantId: this.route.caller.tenantId, at: Date.now(), ...how });
  }

  private async report(event: PstnCallEvent): Promise<void> {
    try {
      await this.services.edge.pstnEvent(event);
    } catch (error) {
      // The slot expires by itself after the call's longest life; the record keeps what it had.
      this.log.warn({ err: error, event: event.event }, 'sip.pstn_event_lost');
    }
  }
}
