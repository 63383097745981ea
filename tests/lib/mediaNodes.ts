/** Signed control calls the tests make to media nodes directly (status, drain). */
import assert from 'node:assert/strict';
import { CONTROL_SIGNATURE_HEADER, signControlRequest, type NodeStatus } from '@callstack/protocol';
import { stack } from './stack.ts';

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
