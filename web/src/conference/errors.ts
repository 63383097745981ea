/** The error a room request fails with, and the sentence a person reads for it. */
import type { SignalingErrorMessage } from '../signaling.ts';

export type RoomErrorCode = SignalingErrorMessage['code'] | 'offline' | 'timeout';

export class RoomRequestError extends Error {
  override readonly name = 'RoomRequestError';
  constructor(
    readonly code: RoomErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What a person should read for a failed room request. */
export function roomErrorMessage(error: unknown): string {
  if (!(error instanceof RoomRequestError)) return 'Something went wrong in the meeting.';
  switch (error.code) {
    case 'not_found':
      return 'This meeting does not exist, or its link belongs to another organisation.';
    case 'media_unavailable':
      return 'No media server is available right now. Try again in a moment.';
    case 'offline':
      return 'You’re offline. The meeting resumes once reconnected.';
    case 'timeout':
      return 'The server did not answer in time. Try again.';
    case 'invalid_state':
    case 'forbidden':
      return sentenceOf(error.message);
    default:
      return `The meeting failed: ${error.message}`;
  }
}

function sentenceOf(text: string): string {
  const trimmed = text.trim();
  return trimmed ? `${trimmed[0]!.toUpperCase()}${trimmed.slice(1)}${/[.!?]$/.test(trimmed) ? '' : '.'}` : trimmed;
}
