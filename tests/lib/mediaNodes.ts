/** Media nodes of a test's own, and the signed control calls tests make to nodes directly (status, drain). */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
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

/**
 * For a test file whose rooms must land on a node of its own: drains the stack's node (or finds it
 * already dead), starts `nodeId` before the file's tests and stops it after them. Register it after
 * the file's own hooks, so its browsers leave their rooms before the node stops.
 */
export function useOwnMediaNode(nodeId: string, firstPort: number): void {
  let node: LocalMediaNode | undefined;
  before(async () => {
    await drainNode(stack.mediaNode.controlUrl).catch(() => undefined);
    node = await startTestNode(nodeId, firstPort);
  });
  after(async () => {
    await node?.stop();
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
