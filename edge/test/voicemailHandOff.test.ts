import { describe, expect, it } from 'vitest';
import type { EndReason } from '@callstack/protocol';
import { applyAction, ringTimeout } from '../src/signaling/callState.ts';
import type { CallState } from '../src/signaling/types.ts';
import { voicemailFollows } from '../src/voicemail/handOff.ts';
import { ringingCall, T0 } from './calls.ts';

const gateway = { nodeId: 'sip-1', controlUrl: 'http://127.0.0.1:9' };

/** The carrier's caller (a line the gateway carries) rings bob. */
function fromOutside(): CallState {
  const call = ringingCall();
  return { ...call, caller: { ...call.caller, userId: 'pstn-line', deviceId: 'pstn-line', via: gateway } };
}

function ended(state: CallState, reason: EndReason): CallState {
  return { ...state, status: 'ended', endedAt: T0 + 5_000, endReason: reason };
}

describe('voicemail follows', () => {
  it('an outside call that nobody answered, that bob declined or that found him busy or unreachable', () => {
    for (const reason of ['no-answer', 'rejected', 'busy', 'unavailable'] as const) expect(voicemailFollows(ended(fromOutside(), reason)), reason).toBe(true);
    const timedOut = ringTimeout(fromOutside(), T0 + 120_000);
    expect(timedOut.ok && voicemailFollows(timedOut.state)).toBe(true);
  });

  it('not when the caller hung up first, when it was answered, while it rings, between colleagues, or towards a number', () => {
    const outside = fromOutside();
    expect(voicemailFollows(ended(outside, 'cancelled'))).toBe(false);
    expect(voicemailFollows(outside)).toBe(false);
    const answered = applyAction(outside, { tenantId: 't1', userId: 'bob', deviceId: 'b1' }, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
    expect(answered.ok && voicemailFollows({ ...ended(answered.state, 'hangup') })).toBe(false);
    expect(voicemailFollows(ended(ringingCall(), 'no-answer'))).toBe(false);
    const dialled = ringingCall();
    expect(voicemailFollows(ended({ ...dialled, callee: { ...dialled.callee, via: gateway } }, 'no-answer'))).toBe(false);
  });
});
