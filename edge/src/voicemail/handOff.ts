/**
 * When an outside caller leaves a message: their call to a user ended unanswered (nobody picked
 * up, busy, declined, nobody reachable). CallSession then asks the gateway, with the line's
 * `call.ended`, to take a message; the call's record ends as usual (no answer, 480), and the
 * gateway's `voicemail` event amends it (answered by voicemail, ended with the message), so a
 * gateway that never reports leaves a complete record all the same.
 */
import { VOICEMAIL_MAX_SECONDS, type VoicemailDeposit } from '@callstack/protocol';
import { UNANSWERED_ENDS } from '../db/pstn.ts';
import type { CallState } from '../signaling/types.ts';

export function voicemailFollows(state: CallState): boolean {
  return (
    state.status === 'ended' &&
    state.answeredAt === null &&
    state.caller.via !== undefined &&
    state.callee.via === undefined &&
    // A ring group has no mailbox of its own.
    state.hunt === undefined &&
    state.endReason !== null &&
    UNANSWERED_ENDS.has(state.endReason)
  );
}

/** The hand-off for this call: the callee's mailbox, the longest message. */
export function depositFor(state: CallState): VoicemailDeposit {
  return { mailbox: state.callee.userId, maxSeconds: VOICEMAIL_MAX_SECONDS };
}
