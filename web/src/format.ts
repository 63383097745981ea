/** Person-readable text for call states, end reasons, durations and dates. */
import * as v from 'valibot';
import { EndReason, type PresenceStatus } from '@callstack/protocol';
import type { CallState } from './call.ts';

const END_REASON_LABELS: Record<EndReason, string> = {
  hangup: 'Call ended',
  rejected: 'Declined',
  cancelled: 'Cancelled',
  busy: 'Busy',
  'no-answer': 'No answer',
  unavailable: 'Unavailable (offline)',
  'answered-elsewhere': 'Answered on another device',
  'connection-lost': 'Connection lost',
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
