/** Call states shared by the edge's unit tests. */
import type { CallState } from '../src/signaling/types.ts';

export const T0 = 1_000_000;

/** alice (device a1) calls bob, ringing every device of his since T0. */
export function ringingCall(): CallState {
  return {
    callId: 'call-1',
    tenantId: 't1',
    caller: { userId: 'alice', displayName: 'Alice', deviceId: 'a1' },
    callee: { userId: 'bob', displayName: 'Bob', deviceId: null },
    media: { audio: true, video: true },
    status: 'ringing',
    createdAt: T0,
    answeredAt: null,
    endedAt: null,
    endReason: null,
    ringDeadline: T0 + 30_000,
    lostDevices: {},
  };
}
