/** Person-readable text for call states, end reasons, durations and dates. */
import * as v from 'valibot';
import { EndReason, type PresenceStatus } from '@callstack/protocol';
import type { CallOutcome, CallState } from './call.ts';

const END_REASON_LABELS: Record<EndReason, string> = {
  hangup: 'Call ended',
  rejected: 'Declined',
  cancelled: 'Cancelled',
  busy: 'Busy',
  'no-answer': 'No answer',
  unavailable: 'Unavailable (offline)',
  'answered-elsewhere': 'Answered on another device',
  'connection-lost': 'Connection lost',
  'max-duration': 'Longest call reached',
  failed: 'Call failed',
  transferred: 'Transferred',
};

/** `m:ss`, or `h:mm:ss` from an hour; `padMinutes` gives the `mm:ss` of a running timer. */
export function formatDuration(ms: number, padMinutes = false): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`;
  return `${padMinutes ? String(minutes).padStart(2, '0') : minutes}:${seconds}`;
}

/** Call records store the reason as text; an unknown one is shown as is. */
export function endReasonLabel(reason: string): string {
  return v.is(EndReason, reason) ? END_REASON_LABELS[reason] : reason;
}

export function callStatusLabel(state: CallState): string {
  switch (state.phase) {
    case 'idle':
      return 'Ready';
    case 'calling':
      return 'Calling…';
    case 'ringing':
      return 'Ringing…';
    case 'incoming':
      return 'Incoming call';
    case 'connecting':
      return 'Connecting…';
    case 'active':
      return 'In call';
    case 'ended':
      if (state.reason === 'hangup') return `Call ended · ${formatDuration(state.durationMs)}`;
      return state.reason ? endReasonLabel(state.reason) : 'Call ended';
    case 'failed':
      return state.error ?? 'Call failed';
  }
}

/** Time of day for today's calls, otherwise the date and time. */
export function formatWhen(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const sameDay = date.toDateString() === now.toDateString();
  return new Intl.DateTimeFormat(undefined, sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export const PRESENCE_LABELS: Record<PresenceStatus, string> = {
  online: 'Available',
  away: 'Away',
  busy: 'Busy',
  dnd: 'Do not disturb',
  offline: 'Offline',
};

/**
 * What a finished call tells the person, and what they can do next: call again after an
 * outgoing call, call back after a missed one. Null when there is nothing worth saying (they
 * declined it themselves, or another of their devices took it).
 */
export function outcomeNotice(outcome: CallOutcome): { text: string; tone: 'info' | 'problem'; action: 'call-again' | 'call-back' | null } | null {
  const name = outcome.peer.displayName;
  const outgoing = outcome.direction === 'outgoing';
  if (outcome.reason === null)
    return { text: `Call to ${name} failed: ${outcome.error ?? 'unknown error'}`, tone: 'problem', action: outgoing ? 'call-again' : 'call-back' };
  switch (outcome.reason) {
    case 'hangup':
      return { text: `Call with ${name} ended · ${formatDuration(outcome.durationMs)}`, tone: 'info', action: outgoing ? 'call-again' : 'call-back' };
    case 'rejected':
      return outgoing ? { text: `${name} declined the call`, tone: 'problem', action: 'call-again' } : null;
    case 'busy':
      return outgoing
        ? { text: `${name} is busy on another call`, tone: 'problem', action: 'call-again' }
        : { text: `Missed call from ${name}`, tone: 'problem', action: 'call-back' };
    case 'no-answer':
      return outgoing
        ? { text: `No answer from ${name}`, tone: 'problem', action: 'call-again' }
        : { text: `Missed call from ${name}`, tone: 'problem', action: 'call-back' };
    case 'unavailable':
      return outgoing
        ? { text: `${name} is offline: no device of theirs could ring`, tone: 'problem', action: 'call-again' }
        : { text: `Missed call from ${name}`, tone: 'problem', action: 'call-back' };
    case 'cancelled':
      return outgoing
        ? { text: `You cancelled the call to ${name}`, tone: 'info', action: 'call-again' }
        : { text: `Missed call from ${name}`, tone: 'problem', action: 'call-back' };
    case 'connection-lost':
      return { text: `The call with ${name} was cut off: connection lost`, tone: 'problem', action: outgoing ? 'call-again' : 'call-back' };
    case 'failed':
      return { text: `The call with ${name} failed`, tone: 'problem', action: outgoing ? 'call-again' : 'call-back' };
    case 'transferred':
      return { text: `Call with ${name} transferred`, tone: 'info', action: null };
    case 'answered-elsewhere':
      return null;
    case 'max-duration':
      return { text: `The call with ${name} reached the longest a call may last`, tone: 'info', action: outgoing ? 'call-again' : 'call-back' };
  }
}
