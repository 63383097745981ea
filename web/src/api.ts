/** REST client for the edge's `/api` routes. Every failure is an `ApiError` with a stable code. */
import * as v from 'valibot';
import {
  ErrorCode,
  type CallHistoryResponse,
  type DirectoryResponse,
  type LoginRequest,
  type RefreshRequest,
  type SessionResponse,
  type TurnCredentialsResponse,
} from '@callstack/protocol';

/** `network` means no HTTP answer at all (offline, edge down). */
export type ApiErrorCode = ErrorCode | 'network';

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const ErrorBodySchema = v.object({
  error: v.object({ code: v.picklist(Object.values(ErrorCode)), message: v.string() }),
});

async function request<T>(method: 'GET' | 'POST', path: string, init: { token?: string; body?: unknown }): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Can’t reach the server. Check your connection.');
  }
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const parsed = v.safeParse(ErrorBodySchema, body);
    if (parsed.success) throw new ApiError(response.status, parsed.output.error.code, parsed.output.error.message);
    throw new ApiError(response.status, ErrorCode.internal, `The server answered with HTTP ${response.status}.`);
  }
  // A 200 without JSON is a misrouted request (e.g. an HTML fallback page), not data.
  if (body === null) throw new ApiError(response.status, ErrorCode.internal, 'Unexpected answer from the server.');
  return body as T;
}

export const api = {
  login: (body: LoginRequest) => request<SessionResponse>('POST', '/api/auth/login', { body }),
  refresh: (refreshToken: string) =>
    request<SessionResponse>('POST', '/api/auth/refresh', { body: { refreshToken } satisfies RefreshRequest }),
  logout: (refreshToken: string) =>
    request<undefined>('POST', '/api/auth/logout', { body: { refreshToken } satisfies RefreshRequest }),
  users: (token: string) => request<DirectoryResponse>('GET', '/api/users', { token }),
  calls: (token: string) => request<CallHistoryResponse>('GET', '/api/calls', { token }),
  turnCredentials: (token: string) => request<TurnCredentialsResponse>('GET', '/api/turn-credentials', { token }),
};

/** Text to show a person for any failure. */
export function errorMessage(error: unknown): string {
  return error instanceof ApiError ? error.message : 'Something went wrong. Please try again.';
}
