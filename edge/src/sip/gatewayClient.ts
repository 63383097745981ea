/**
 * The edge's side of the gateway's control API: one signed POST per message for a SIP device
 * (protocol/src/sip.ts). A gateway that does not answer loses that message only; the call's own
 * timeouts (ringing, device grace) end what it cannot carry out.
 */
import { CONTROL_SIGNATURE_HEADER, SIP_DEVICE_MESSAGES_PATH, signControlRequest, type SipDelivery, type SipGatewayNode } from '@callstack/protocol';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';

const DELIVERY_TIMEOUT_MS = 3_000;

export async function deliverToGateway(env: Env, node: SipGatewayNode, delivery: SipDelivery): Promise<boolean> {
  const secret = config(env).mediaControlSecret;
  if (!secret) return false;
  const url = new URL(SIP_DEVICE_MESSAGES_PATH, node.controlUrl);
  const body = JSON.stringify(delivery);
  const ids = { nodeId: node.nodeId, tenantId: delivery.device.tenantId, userId: delivery.device.userId, type: delivery.message.type };
  try {
    const signature = await signControlRequest(secret, { method: 'POST', path: url.pathname, body });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signature },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    if (!response.ok) log.warn('sip.delivery_refused', { ...ids, status: response.status });
    return response.ok;
  } catch (error) {
    log.warn('sip.delivery_failed', ids, error);
    return false;
  }
}
