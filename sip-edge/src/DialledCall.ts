/**
 * A number a browser dialled: the edge's call rings a line (protocol/src/sip.ts), whose
 * `call.incoming` carries the edge's decision (`PstnRouteAnswer`). The carrier leg is placed like a
 * phone's (WebCall: an offerless INVITE, the carrier offers in its 200 OK, the browser answers in
 * the ACK), on the trunks in the edge's order, the healthy ones first, moving to the next on 5xx,
 * 408 or no provisional answer in time. Which trunk is tried is reported to the edge; the rest of
 * the record (answer, end, maximum duration) is the edge's call session's.
 *
 * Not yet: early media (a 183 with SDP needs the offer first), and carriers that insist on an offer
 * in the INVITE.
 */
import type { PstnRouteAnswer, SipDevice } from '@callstack/protocol';
import type Srf from 'drachtio-srf';
import type { BridgeServices } from './bridge.ts';
import { carrierInvite, failsOver, startSetupTimer } from './carrierInvite.ts';
import { onRequestSent } from './requestSent.ts';
import { WebCall, type Incoming, type UnacknowledgedAnswer } from './WebCall.ts';

export class DialledCall extends WebCall {
  constructor(
    services: BridgeServices,
    line: SipDevice,
    incoming: Incoming,
    private readonly route: PstnRouteAnswer,
  ) {
    super(services, line, incoming);
  }

  protected override async sendInvite(): Promise<UnacknowledgedAnswer> {
    let failure: unknown = Object.assign(new Error('no trunk took the call'), { status: 503 });
    for (const trunk of this.services.health.order(this.route.trunks)) {
      if (this.ended) break;
      await this.services.edge
        .pstnEvent({ event: 'trunk', callId: this.callId, tenantId: this.device.tenantId, trunkId: trunk.id })
        .catch((error: unknown) => this.log.warn({ err: error }, 'sip.pstn_event_lost'));
      const { uri, options } = carrierInvite(trunk, this.route.callerId);
      const setup = startSetupTimer(() => this.invite?.cancel(() => undefined));
      try {
        return (await this.services.srf.createUAC(uri, { ...options, noAck: true } as Srf.CreateUACOptions, {
          cbRequest: onRequestSent((req) => (this.invite = req)),
          cbProvisional: () => setup.stop(),
        })) as unknown as UnacknowledgedAnswer;
      } catch (error) {
        const status = (error as { status?: number }).status ?? 408;
        if (!failsOver(status, setup.timedOut)) throw error;
        this.log.info({ trunkId: trunk.id, status, timedOut: setup.timedOut }, 'sip.trunk_failover');
        failure = Object.assign(new Error(`trunk ${trunk.id} failed`), { status: setup.timedOut ? 408 : status });
      } finally {
        setup.stop();
      }
    }
    throw failure;
  }
}
