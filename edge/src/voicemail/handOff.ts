/**
 * When an outside caller leaves a message: their call to a user ended unanswered (nobody picked
 * up, busy, declined, nobody reachable). Read by CallSession twice, from the same ended state: the
 * line's `call.ended` then asks the gateway to take a message, and the call's record is left open
 * for the gateway to complete (answered by voicemail, ended when the message is).
 */
import { VOICEMAIL_MAX_SECONDS, type EndReason, type VoicemailDeposit } from '@callstack/protocol';
import type { CallState } from '../signaling/types.ts';

const UNANSWERED: ReadonlySet<EndReason> = new Set<EndReason>(['no-answer', 'busy', 'rejected', 'unavailable']);

export function voicemailFollows(state: CallState): boolean {
  return (
    state.status === 'ended' &&
    state.answeredAt === null &&
    state.caller.via !== undefined &&
    state.callee.via === undefined &&
    // A ring group has no mailbox of its own.
    state.hunt === undefined &&
    state.endReason !== null &&
    UNANSWERED.has(state.endReason)
  );
}

/** The hand-off for this call: the callee's mailbox, the longest message. */
export function depositFor(state: CallState): VoicemailDeposit {
  return { mailbox: state.callee.userId, maxSeconds: VOICEMAIL_MAX_SECONDS };
}
