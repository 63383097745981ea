/** Media nodes of a test's own, and the signed control calls tests make to nodes directly (status, drain). */
import assert from 'node:assert/strict';
import { CONTROL_SIGNATURE_HEADER, signControlRequest, type NodeStatus } from '@callstack/protocol';
import { startMediaNode, type LocalMediaNode } from '../../scripts/lib/mediaNode.ts';
import { stack } from './stack.ts';

/** A media node registered with the stack's edge (every 2 s), RTC on 200 ports from `firstPort`; the caller stops it. */
export function startTestNode(nodeId: string, firstPort: number): Promise<LocalMediaNode> {
  return startMediaNode({
    nodeId,
    edgeUrl: stack.url,
    secret: stack.mediaSecret,
    logFile: stack.tmp('logs', `${nodeId}.log`),
    rtcPorts: { min: firstPort, max: firstPort + 199 },
    registerIntervalSeconds: 2,
  });
}

export async function nodeStatus(controlUrl: string): Promise<NodeStatus> {
  const signature = await signControlRequest(stack.mediaSecret, { method: 'GET', path: '/control/status', body: '' });
  const response = await fetch(`${controlUrl}/control/status`, { headers: { [CONTROL_SIGNATURE_HEADER]: signature } });
  assert.equal(response.status, 200);
  return (await response.json()) as NodeStatus;
}

/** Drains a node: it refuses new rooms and tells the edge so with its next registration. */
export async function drainNode(controlUrl: string): Promise<Response> {
  const signature = await signControlRequest(stack.mediaSecret, { method: 'POST', path: '/control/drain', body: '' });
  return fetch(`${controlUrl}/control/drain`, { method: 'POST', headers: { [CONTROL_SIGNATURE_HEADER]: signature } });
}
