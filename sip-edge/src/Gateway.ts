/**
 * The B2BUA: phones' INVITEs (from Kamailio, with the authenticated `X-CallStack-User`) become
 * calls of their SIP device on the edge, and the edge's messages for SIP devices become INVITEs
 * to phones. It decides nothing: the edge answers where a call goes and whether it may.
 */
import { isLineId, type RefusedRouteAnswer, type ServerMessage, type SipDelivery } from '@callstack/protocol';
import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { bridgeKey, type BridgeServices, type CallBridge } from './bridge.ts';
import { EdgeUnavailable, type EdgeClient } from './EdgeClient.ts';
import type { MediaAnchor } from './MediaAnchor.ts';
import { PhoneCall } from './PhoneCall.ts';
import { quotable } from './sipText.ts';
import { TrunkCall, type TrunkCallServices } from './TrunkCall.ts';
import type { TrunkHealth } from './TrunkHealth.ts';
import { DialledCall } from './DialledCall.ts';
import { Voicemail, type VoicemailSettings } from './Voicemail.ts';
import { WebCall } from './WebCall.ts';

/** The header Kamailio sets after digest authentication (and strips from what phones send). */
export const AUTHENTICATED_USER_HEADER = 'X-CallStack-User';
/** What Kamailio sets instead for a carrier's call: the trunk it recognised, and the address it came from. */
export const TRUNK_HEADER = 'X-CallStack-Trunk';
export const SOURCE_HEADER = 'X-CallStack-Source';

export class Gateway {
  private readonly calls = new Map<string, CallBridge>();
  private readonly trunkCalls = new Map<string, TrunkCall>();
  private readonly services: BridgeServices;
  private readonly trunkServices: TrunkCallServices;

  constructor(
    private readonly srf: Srf,
    private readonly edge: EdgeClient,
    anchor: MediaAnchor,
    private readonly log: Logger,
    options: { realm: string; proxy: string },
    health: TrunkHealth,
    private readonly voicemail: VoicemailSettings,
  ) {
    this.trunkServices = { srf, edge, anchor, health, log, finished: (key) => this.trunkCalls.delete(key) };
    this.services = {
      srf,
      edge,
      anchor,
      health,
      log,
      ...options,
      finished: (key) => this.calls.delete(key),
      moved: (bridge, previousKey) => {
        this.calls.delete(previousKey);
        this.calls.set(bridge.key, bridge);
      },
      legBySipCallId: (deviceId, sipCallId) => [...this.calls.values()].find((call) => call.device.deviceId === deviceId && call.sipCallId === sipCallId),
    };
    srf.invite((req, res) =>
      this.onInvite(req, res).catch((error: unknown) => {
        log.error({ err: error }, 'sip.invite_failed');
        if (!res.finalResponseSent) res.send(500);
      }),
    );
  }

  get activeCalls(): number {
    return this.calls.size + this.trunkCalls.size;
  }

  /** A message of the edge for one SIP device (the control API's `POST /devices/messages`). */
  deliver({ device, message, pstn, voicemail }: SipDelivery): void {
    if (message.type === 'call.incoming') {
      const key = bridgeKey(device.deviceId, message.callId);
      if (this.calls.has(key)) return;
      // Attended transfer: the new call takes over this device's leg of the call it replaces.
      const replaced = message.replaces ? this.calls.get(bridgeKey(device.deviceId, message.replaces)) : undefined;
      if (replaced) return replaced.deliver(message);
      // A line: a number a browser dialled, placed on the trunks the edge chose; else a phone of the account.
      if (isLineId(device.deviceId) && !pstn) return void this.log.warn({ callId: message.callId }, 'sip.line_without_route');
      const call = pstn ? new DialledCall(this.services, device, message, pstn) : new WebCall(this.services, device, message);
      this.calls.set(key, call);
      call.start();
      return;
    }
    const callId = callIdOf(message);
    const call = callId ? this.calls.get(bridgeKey(device.deviceId, callId)) : undefined;
    if (call instanceof PhoneCall && message.type === 'call.ended' && voicemail) {
      const { srf, edge, anchor, log } = this.services;
      return call.leaveMessage(new Voicemail({ srf, edge, anchor, log, voicemail: this.voicemail }, device, call.callId, voicemail));
    }
    if (call) call.deliver(message);
    else this.log.debug({ type: message.type, callId }, 'sip.delivery_for_unknown_call');
  }

  private async onInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const trunkId = req.get(TRUNK_HEADER);
    if (trunkId) return this.onCarrierInvite(req, res, trunkId);
    const username = req.get(AUTHENTICATED_USER_HEADER);
    // Only Kamailio reaches the gateway: it authenticates every phone's INVITE it sends here.
    if (!username) return void res.send(403);
    const target = Srf.parseUri(req.uri)?.user;
    if (!target) return void res.send(404);
    let route;
    try {
      route = await this.edge.route(username, decodeURIComponent(target));
    } catch (error) {
      this.log.warn({ err: error }, error instanceof EdgeUnavailable ? 'sip.edge_unreachable' : 'sip.route_failed');
      return void res.send(503);
    }
    if (!route) return void res.send(404);
    switch (route.kind) {
      case 'refused':
        this.log.info({ callId: route.callId, reason: route.reason }, 'sip.pstn_refused');
        return refuse(res, route);
      case 'pstn': {
        const call = new TrunkCall(this.trunkServices, route, req, res);
        this.trunkCalls.set(call.key, call);
        this.log.info({ callId: route.callId, tenantId: route.caller.tenantId, userId: route.caller.userId }, 'sip.phone_calls_out');
        return call.start();
      }
      case 'user':
        break;
      default:
        return route satisfies never;
    }
    const callId = crypto.randomUUID();
    const call = new PhoneCall(this.services, callId, route.caller, req, res, route.callee);
    this.calls.set(call.key, call);
    this.log.info({ callId, tenantId: route.caller.tenantId, userId: route.caller.userId, callee: route.callee.userId }, 'sip.phone_calls');
    await call.start();
  }

  /**
   * A carrier's call to a number: the edge says whom it rings, and the call is placed as the line
   * it names, a device of no account, exactly as a phone places one (PhoneCall).
   */
  private async onCarrierInvite(req: Srf.SrfRequest, res: Srf.SrfResponse, trunkId: string): Promise<void> {
    const from = req.getParsedHeader('From') as { uri?: string; name?: string };
    const target = Srf.parseUri(req.uri)?.user;
    if (!target) return void res.send(404);
    let route;
    try {
      route = await this.edge.inbound({
        trunkId,
        source: req.get(SOURCE_HEADER) ?? '',
        from: (from.uri && Srf.parseUri(from.uri)?.user) ?? '',
        ...(callerName(from.name) ? { fromName: callerName(from.name) } : {}),
        to: decodeURIComponent(target),
      });
    } catch (error) {
      this.log.warn({ err: error, trunkId }, error instanceof EdgeUnavailable ? 'sip.edge_unreachable' : 'sip.inbound_failed');
      return void res.send(503);
    }
    switch (route.kind) {
      case 'refused':
        this.log.info({ callId: route.callId, trunkId, reason: route.reason }, 'sip.inbound_refused');
        return refuse(res, route);
      case 'user': {
        const call = new PhoneCall(this.services, route.callId, route.line, req, res, route.callee);
        this.calls.set(call.key, call);
        this.log.info({ callId: route.callId, tenantId: route.line.tenantId, callee: route.callee.userId, trunkId }, 'sip.carrier_calls');
        return call.start();
      }
      case 'forward': {
        // Out again through the trunks, exactly as a phone's call to the outside, the caller being the line.
        const { line, ...decided } = route;
        const call = new TrunkCall(this.trunkServices, { ...decided, kind: 'pstn', caller: line }, req, res);
        this.trunkCalls.set(call.key, call);
        this.log.info({ callId: route.callId, tenantId: line.tenantId, trunkId }, 'sip.carrier_call_forwarded');
        return call.start();
      }
      default:
        return route satisfies never;
    }
  }
}

/** The carrier's caller name (From display name), unquoted and without control characters; '' when none. */
function callerName(raw: string | undefined): string {
  return (
    (raw ?? '')
      .replace(/^\s*"|"\s*$/g, '')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .trim()
      .slice(0, 80)
  );
}

/** The reason in words, for the phone's display and the carrier-side trace (RFC 3326). */
function refuse(res: Srf.SrfResponse, { sipStatus, reason, message }: RefusedRouteAnswer): void {
  res.send(sipStatus, { headers: { Reason: `SIP;cause=${sipStatus};text="${reason}: ${quotable(message, 160)}"` } });
}

function callIdOf(message: ServerMessage): string | null {
  return 'callId' in message && typeof message.callId === 'string' ? message.callId : null;
}
