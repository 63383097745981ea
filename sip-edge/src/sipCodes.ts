/** How the edge's call outcomes and SIP's final responses translate, both ways (RFC 3261 §21). */
import type { EndReason, ErrorCode } from '@callstack/protocol';

/** The final response to a phone's INVITE when the call ended before the web side answered. */
export function statusForEndReason(reason: EndReason): number {
  switch (reason) {
    case 'busy':
      return 486;
    case 'rejected':
      return 603;
    case 'no-answer':
    case 'unavailable':
    case 'connection-lost':
      return 480;
    case 'cancelled':
    case 'hangup':
    case 'answered-elsewhere':
    case 'transferred':
      return 487;
    case 'failed':
      return 500;
    default:
      return reason satisfies never;
  }
}

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
