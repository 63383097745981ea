/**
 * Stable error codes. Clients branch on `code`; `message` is for people and may change.
 * Never add a stack trace or internal detail to a message that leaves the edge.
 */
export const ErrorCode = {
  badRequest: 'bad_request',
  badMessage: 'bad_message',
  messageTooLarge: 'message_too_large',
  /** A REST body that is not `application/json`. */
  unsupportedMediaType: 'unsupported_media_type',
  unauthorized: 'unauthorized',
  /** A signed request (media node registration or event) outside the allowed clock skew. */
  signatureExpired: 'signature_expired',
  tokenExpired: 'token_expired',
  invalidCredentials: 'invalid_credentials',
  forbidden: 'forbidden',
  notFound: 'not_found',
  invalidState: 'invalid_state',
  conflict: 'conflict',
  rateLimited: 'rate_limited',
  databaseUnavailable: 'database_unavailable',
  /** No media node can host the room right now (none registered, all draining or failing). */
  mediaUnavailable: 'media_unavailable',
  internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status that goes with each code on REST routes. */
export const httpStatusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  bad_message: 400,
  message_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  signature_expired: 401,
  token_expired: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  invalid_state: 409,
  conflict: 409,
  rate_limited: 429,
  database_unavailable: 503,
  media_unavailable: 503,
  internal: 500,
};

/** Body of every REST error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}
