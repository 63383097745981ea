/** How the softphone names a voicemail message's caller. */
import type { VoicemailView } from '@callstack/protocol';

/** Who left the message, as the person knows them: their contact's name, else the number. */
export function callerLabel(message: Pick<VoicemailView, 'from' | 'fromName'>): string {
  return message.fromName ?? message.from ?? 'Withheld number';
}
