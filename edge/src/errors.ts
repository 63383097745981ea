import { ErrorCode, httpStatusOf, type ErrorBody } from '@callstack/protocol';

/**
 * An error with a stable code that may be shown to a client. Anything else thrown inside the
 * edge becomes `internal` with a generic message; its detail goes to the log only.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  /** Sent as `Retry-After` with rate-limit answers. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return httpStatusOf[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Failures of the database that a retry may cure; mapped to 503 database_unavailable. */
export class DatabaseUnavailableError extends ApiError {
  constructor(cause: unknown) {
    super(ErrorCode.databaseUnavailable, 'the database is unavailable, try again shortly');
    this.name = 'DatabaseUnavailableError';
    this.cause = cause;
  }
}

export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(ErrorCode.internal, 'internal error');
}
