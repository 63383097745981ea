/**
 * The gateway's requests to the edge (protocol/src/sip.ts), each signed with the nodes' secret and
 * a fresh nonce. `null` is the edge's `not_found`; any other failure throws EdgeUnavailable, which
 * the gateway answers on SIP with 503 (never a guess).
 */
import {
  CONTROL_SIGNATURE_HEADER,
  ServerMessage,
  signControlRequest,
  SipCredentialsAnswer,
  SipRegistrationAnswer,
  type SipRegistration,
  SipRouteAnswer,
  type ClientMessage,
  type SipDevice,
  type SipGatewayNode,
  type PstnCallEvent,
  type PstnInboundRequest,
  type SipPstnEvent,
  type SipVoicemailReport,
  SipGreetingAnswer,
  type SipGreetingRequest,
  type VoicemailRecorded,
  SipInboundAnswer,
  TrunkAddresses,
} from '@callstack/protocol';
import * as v from 'valibot';

const TIMEOUT_MS = 5_000;

export class EdgeUnavailable extends Error {
  override readonly name = 'EdgeUnavailable';
}

export class EdgeClient {
  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
    readonly node: SipGatewayNode,
  ) {}

  credentials(username: string): Promise<SipCredentialsAnswer | null> {
    return this.post('/api/sip/credentials', { username }, SipCredentialsAnswer);
  }

  register(registration: Omit<SipRegistration, 'node'>): Promise<SipRegistrationAnswer | null> {
    return this.post('/api/sip/registrations', { node: this.node, ...registration } satisfies SipRegistration, SipRegistrationAnswer);
  }

  route(username: string, target: string): Promise<SipRouteAnswer | null> {
    return this.post('/api/sip/route', { node: this.node, username, target }, SipRouteAnswer);
  }

  /** A carrier's call to a number: whom it rings (placed as the line the edge names), or refused. */
  async inbound(request: PstnInboundRequest): Promise<SipInboundAnswer> {
    const answer = await this.post('/api/sip/pstn/inbound', { node: this.node, ...request }, SipInboundAnswer);
    if (!answer) throw new EdgeUnavailable('the edge has no inbound route');
    return answer;
  }

  /** The addresses each carrier trunk sends from. */
  async trunks(): Promise<TrunkAddresses> {
    const answer = await this.post('/api/sip/trunks', { node: this.node }, TrunkAddresses);
    if (!answer) throw new EdgeUnavailable('the edge has no trunk list');
    return answer;
  }

  /**
   * A call to the outside progressed or ended. The end is retried (it frees the call's slot in the
   * tenant's limits and completes its record); `false` once the edge could not be told.
   */
  async pstnEvent(event: PstnCallEvent): Promise<boolean> {
    await this.retried(event.event === 'ended' || event.event === 'voicemail' ? 4 : 1, () =>
      this.post('/api/sip/pstn/events', { node: this.node, event } satisfies SipPstnEvent, v.unknown()),
    );
    return true;
  }

  /** A message an outside caller left; retried longer, as the mailbox shows nothing until the edge knows. */
  async voicemail(voicemail: VoicemailRecorded): Promise<void> {
    await this.retried(6, () => this.post('/api/sip/voicemail', { node: this.node, voicemail } satisfies SipVoicemailReport, v.unknown()));
  }

  /** A mailbox's own greeting; null when it has none (the default plays). */
  greeting(tenantId: string, userId: string): Promise<SipGreetingAnswer | null> {
    return this.post('/api/sip/voicemail/greeting', { node: this.node, tenantId, userId } satisfies SipGreetingRequest, SipGreetingAnswer);
  }

  /** `work`, tried up to `attempts` times with exponential backoff and jitter; the last failure is thrown. */
  private async retried<T>(attempts: number, work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt * (0.5 + Math.random())));
      }
    }
  }

  /** A client message from a SIP device: the edge's `ack`, `error` or reply. */
  async send(device: SipDevice, message: ClientMessage): Promise<ServerMessage> {
    const reply = await this.post('/api/sip/messages', { node: this.node, device, message }, ServerMessage);
    if (!reply) throw new EdgeUnavailable('the edge does not know this device');
    return reply;
  }

  private async post<T>(path: string, payload: unknown, schema: v.GenericSchema<unknown, T>): Promise<T | null> {
    const body = JSON.stringify(payload);
    let response: Response;
    try {
      const signature = await signControlRequest(this.secret, { method: 'POST', path, body });
      response = await fetch(new URL(path, this.baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new EdgeUnavailable(`edge unreachable: ${(error as Error).message}`);
    }
    if (response.status === 404) return null;
    const text = await response.text();
    if (!response.ok) throw new EdgeUnavailable(`edge answered ${response.status} to ${path}: ${text.slice(0, 200)}`);
    const parsed = v.safeParse(schema, JSON.parse(text));
    if (!parsed.success) throw new EdgeUnavailable(`edge answer to ${path} does not match its schema`);
    return parsed.output;
  }
}
