import { describeIssues, ErrorCode } from '@callstack/protocol';
import * as v from 'valibot';
import { ApiError, toApiError } from './errors.ts';
import { log } from './log.ts';

const MAX_JSON_BODY_BYTES = 16 * 1024;

/** Reads and validates a JSON body; any problem is a 400 with the first failing field named. */
export async function readJson<S extends v.GenericSchema>(request: Request, schema: S): Promise<v.InferOutput<S>> {
  const text = await request.text();
  if (text.length > MAX_JSON_BODY_BYTES) throw new ApiError(ErrorCode.messageTooLarge, 'request body too large');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(ErrorCode.badRequest, 'request body is not valid JSON');
  }
  const result = v.safeParse(schema, body);
  if (!result.success) throw new ApiError(ErrorCode.badRequest, describeIssues(result.issues));
  return result.output;
}

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/** The single place where thrown errors become responses: typed errors as-is, the rest as 500. */
export function errorResponse(error: unknown, request: Request): Response {
  const apiError = toApiError(error);
  if (apiError.code === ErrorCode.internal || apiError.code === ErrorCode.databaseUnavailable) {
    log.error('http.failed', { method: request.method, path: new URL(request.url).pathname, code: apiError.code }, error);
  }
  const headers: Record<string, string> = apiError.retryAfterSeconds ? { 'retry-after': String(apiError.retryAfterSeconds) } : {};
  return json(apiError.toBody(), apiError.status, headers);
}
