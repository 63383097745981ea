/** How the edge's refusals become SIP final responses (RFC 3261 §21); call ends: protocol's `sipStatusForEndReason`. */
import type { ErrorCode } from '@callstack/protocol';

/** The final response when the edge refused the phone's call outright. */
export function statusForRefusal(code: ErrorCode): number {
  switch (code) {
    case 'not_found':
      return 404;
    case 'invalid_state':
      return 486;
    case 'forbidden':
    case 'unauthorized':
      return 403;
    case 'rate_limited':
    case 'database_unavailable':
    case 'media_unavailable':
      return 503;
    default:
      return 500;
  }
}
