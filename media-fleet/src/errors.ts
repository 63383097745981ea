/**
 * The one error type the control API turns into a response: a stable code (protocol's
 * `MediaErrorCode`), its HTTP status, and a message safe to show the edge. Anything else thrown
 * becomes `internal` with a generic message (details go to the log only).
 */
import { MediaErrorCode, mediaHttpStatusOf, type MediaErrorBody } from '@callstack/protocol';

export class ControlError extends Error {
  override name = 'ControlError';
  readonly status: number;

  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.status = mediaHttpStatusOf[code];
  }

  toBody(): MediaErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export const notFound = (what: string, id: string) => new ControlError(MediaErrorCode.notFound, `${what} ${id} not found`);
export const invalidState = (message: string) => new ControlError(MediaErrorCode.invalidState, message);
