import { ErrorCode } from '@callstack/protocol';
import { toApiError } from './errors.ts';
import { log } from './log.ts';

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
