/**
 * What every WebSocket of the edge shares: the ref shape, ping/pong, the typed error frame,
 * and the one frame parser (size, JSON, schema). `signaling.ts` and `presence.ts` build their
 * message unions from these; it is a module of its own so neither imports the other.
 */
import * as v from 'valibot';
import { ErrorCode } from './errors.ts';
import { Verbatim } from './text.ts';

/** Largest frame the edge accepts; SDP with video and simulcast stays well below it. */
export const MAX_SIGNALING_MESSAGE_BYTES = 64 * 1024;

/** A client's tag for a request, echoed in the answer as sent. */
export const Ref = v.optional(Verbatim({ max: 64 }));

export const Ping = v.object({ type: v.literal('ping'), ref: Ref });
export const Pong = v.object({ type: v.literal('pong'), ref: Ref });
export const SignalingError = v.object({
  type: v.literal('error'),
  ref: Ref,
  code: v.picklist(Object.values(ErrorCode)),
  message: v.string(),
});

export type ParseResult<T> = { ok: true; message: T } | { ok: false; code: ErrorCode; message: string };

/** Parses one raw frame: size, JSON, then schema. Never throws. */
export function parseFrame<S extends v.GenericSchema>(raw: string | ArrayBuffer, schema: S): ParseResult<v.InferOutput<S>> {
  if (frameBytes(raw) > MAX_SIGNALING_MESSAGE_BYTES) {
    return { ok: false, code: ErrorCode.messageTooLarge, message: `frame exceeds ${MAX_SIGNALING_MESSAGE_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
  } catch {
    return { ok: false, code: ErrorCode.badMessage, message: 'frame is not valid JSON' };
  }
  const result = v.safeParse(schema, json);
  if (!result.success) {
    return { ok: false, code: ErrorCode.badMessage, message: describeIssues(result.issues) };
  }
  return { ok: true, message: result.output };
}

/** One line naming the first failing field, e.g. `callId: Invalid length`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return 'invalid message';
  const path = v.getDotPath(first);
  return path ? `${path}: ${first.message}` : first.message;
}

function frameBytes(raw: string | ArrayBuffer): number {
  if (typeof raw !== 'string') return raw.byteLength;
  // A UTF-16 unit is at most 3 UTF-8 bytes: short frames skip the encoding.
  return raw.length * 3 <= MAX_SIGNALING_MESSAGE_BYTES ? raw.length : new TextEncoder().encode(raw).byteLength;
}

/** Compile-time exhaustiveness check for switches over a union. */
export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}
