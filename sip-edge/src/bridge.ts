/** What every bridged call shares: the services it drives, and ordered handling of the edge's messages. */
import type { ServerMessage, SipDevice } from '@callstack/protocol';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { QUALITY_REPORT_INTERVAL_MS, qualityReportOf } from './callQuality.ts';
import type { EdgeClient } from './EdgeClient.ts';
import { BROWSER_TAG, PHONE_TAG, type MediaAnchor } from './MediaAnchor.ts';

export interface BridgeServices {
  srf: Srf;
  edge: EdgeClient;
  anchor: MediaAnchor;
  log: Logger;
  realm: string;
  /** Kamailio's URI: calls to phones go through it. */
  proxy: string;
  /** Tells the gateway the call is over, so it forgets it. */
  finished(callId: string): void;
}

/** One call between a SIP phone and the edge, by the edge's call id. */
export abstract class CallBridge {
  private queue: Promise<void> = Promise.resolve();
  private qualityTimer: NodeJS.Timeout | undefined;
  protected ended = false;
  protected readonly log: Logger;

  constructor(
    protected readonly services: BridgeServices,
    readonly callId: string,
    protected readonly device: SipDevice,
  ) {
    this.log = services.log.child({ callId, tenantId: device.tenantId, userId: device.userId });
  }

  /** The edge's messages for this call, handled one at a time in the order they came. */
  deliver(message: ServerMessage): void {
    this.queue = this.queue
      .then(() => this.onMessage(message))
      .catch((error: unknown) => this.log.error({ err: error, type: message.type }, 'sip.bridge_failed'));
  }

  protected abstract onMessage(message: ServerMessage): Promise<void>;

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
  protected connected(): void {
    this.log.info('sip.connected');
    this.qualityTimer = setInterval(() => void this.reportQuality(), QUALITY_REPORT_INTERVAL_MS);
  }

  private async reportQuality(): Promise<void> {
    const query = await this.services.anchor.query(this.callId);
    const report =
      query && qualityReportOf(query, { callId: this.callId, phoneTag: PHONE_TAG, browserTag: BROWSER_TAG, intervalMs: QUALITY_REPORT_INTERVAL_MS });
    if (report && !this.ended) await this.tell(report);
  }

  protected finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.qualityTimer);
    void this.services.anchor.release(this.callId);
    this.services.finished(this.callId);
  }
}
