/** REST client for the edge's `/api` routes. Every failure is an `ApiError` with a stable code. */
import * as v from 'valibot';
import {
  ErrorCode,
  type ChangeRoleRequest,
  type CreateApiKeyRequest,
  type AcceptInviteRequest,
  type AdminUsersResponse,
  type ApiKeyView,
  type CallHistoryResponse,
  type CreatedApiKey,
  type CreateInviteRequest,
  type DirectoryResponse,
  type InviteResponse,
  type LoginRequest,
  type RefreshRequest,
  type SessionResponse,
  type SignupRequest,
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

/**
 * One entry of `GET /api/admin/audit`. The protocol package does not define this body (the edge
 * keeps it in edge/src/db/audit.ts), so the fields the console reads are restated here.
 */
export interface AuditEntry {
  id: string;
  actorType: 'user' | 'api_key' | 'anonymous';
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  init: { token?: string; body?: unknown },
): Promise<T> {
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

  signup: (body: SignupRequest) => request<SessionResponse>('POST', '/api/signup', { body }),
  acceptInvite: (body: AcceptInviteRequest) => request<SessionResponse>('POST', '/api/invites/accept', { body }),
  createInvite: (token: string, body: CreateInviteRequest) => request<InviteResponse>('POST', '/api/invites', { token, body }),
  adminUsers: (token: string) => request<AdminUsersResponse>('GET', '/api/admin/users', { token }),
  setRole: (token: string, userId: string, body: v.InferOutput<typeof ChangeRoleRequest>) =>
    request<undefined>('PUT', `/api/admin/users/${encodeURIComponent(userId)}/role`, { token, body }),
  deactivate: (token: string, userId: string) =>
    request<undefined>('POST', `/api/admin/users/${encodeURIComponent(userId)}/deactivate`, { token }),
  apiKeys: (token: string) => request<{ keys: ApiKeyView[] }>('GET', '/api/admin/api-keys', { token }),
  createApiKey: (token: string, body: v.InferOutput<typeof CreateApiKeyRequest>) =>
    request<CreatedApiKey>('POST', '/api/admin/api-keys', { token, body }),
  revokeApiKey: (token: string, keyId: string) =>
    request<undefined>('DELETE', `/api/admin/api-keys/${encodeURIComponent(keyId)}`, { token }),
  /** `query` comes from `auditQuery` (audit.ts). */
  audit: (token: string, query: string) => request<{ entries: AuditEntry[] }>('GET', `/api/admin/audit?${query}`, { token }),
};

/** Text to show a person for any failure. The edge's messages are lower-case phrases. */
export function errorMessage(error: unknown): string {
  return error instanceof ApiError ? sentence(error.message) : 'Something went wrong. Please try again.';
}

/** `wrong email or password` → `Wrong email or password.` */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}
