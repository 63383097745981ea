/** REST client for the edge's `/api` routes. Every failure is an `ApiError` with a stable code. */
import * as v from 'valibot';
import {
  ErrorCode,
  type ApiKeysResponse,
  type AuditLogResponse,
  type ChangePasswordRequest,
  type ChangeRoleRequest,
  type ContactsResponse,
  type ContactView,
  type CreateContactRequest,
  type EraseAccountRequest,
  type PasswordResetConfirmRequest,
  type PasswordResetRequest,
  type RecordingsResponse,
  type RingGroupList,
  type RingGroupView,
  type CreateRingGroupRequest,
  type VoicemailGreetingInfo,
  type VoicemailList,
  type RevealedSipCredentials,
  type SipCredentialsView,
  type UpdateContactRequest,
  type CreateApiKeyRequest,
  type AcceptInviteRequest,
  type AdminUsersResponse,
  type CallHistoryResponse,
  type CreatedApiKey,
  type CreateInviteRequest,
  type DirectoryResponse,
  type InviteResponse,
  type LoginRequest,
  type RefreshRequest,
  type SessionResponse,
  type SignupConfirmRequest,
  type SignupRequest,
  type SocketTicketResponse,
  type TurnCredentialsResponse,
  type AddPhoneNumberRequest,
  type PhoneNumberList,
  type PhoneNumberView,
  type PstnCallRecordList,
  type PstnPolicy,
  type UpdatePhoneNumberRequest,
  type CallerIdView,
  type UpdateCallerIdRequest,
  type BillingView,
  type SpendLimits,
  type RateDeckImported,
  type RateDeckUpload,
  type UsageGrouping,
  type UsageReport,
  type InvoiceDetail,
  type InvoiceList,
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

async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, init: { token?: string; body?: unknown }): Promise<T> {
  const response = await send(method, path, init);
  if (response.status === 202 || response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => null);
  // A 200 without JSON is a misrouted request (e.g. an HTML fallback page), not data.
  if (body === null) throw new ApiError(response.status, ErrorCode.internal, 'Unexpected answer from the server.');
  return body as T;
}

/** A successful response, its body unread; any failure as an `ApiError`. A `Blob` body goes as it is, with its own type. */
async function send(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, init: { token?: string; body?: unknown }): Promise<Response> {
  const headers: Record<string, string> = {};
  const file = init.body instanceof Blob ? init.body : null;
  if (init.body !== undefined) headers['content-type'] = file ? file.type || 'application/octet-stream' : 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: init.body === undefined ? undefined : (file ?? JSON.stringify(init.body)),
    });
  } catch {
    throw new ApiError(0, 'network', 'Can’t reach the server. Check your connection.');
  }
  if (response.ok) return response;
  const body: unknown = await response.json().catch(() => null);
  const parsed = v.safeParse(ErrorBodySchema, body);
  if (parsed.success) throw new ApiError(response.status, parsed.output.error.code, parsed.output.error.message);
  throw new ApiError(response.status, ErrorCode.internal, `The server answered with HTTP ${response.status}.`);
}

/** A file the edge sends as an attachment, with the name it suggests. */
export interface Download {
  blob: Blob;
  filename: string | null;
}

async function download(path: string, token: string): Promise<Download> {
  const response = await send('GET', path, { token });
  const disposition = response.headers.get('content-disposition') ?? '';
  return { blob: await response.blob(), filename: /filename="([^"]+)"/.exec(disposition)?.[1] ?? null };
}

const contactPath = (id: string) => `/api/contacts/${encodeURIComponent(id)}`;

export const api = {
  // Every new session's refresh token goes into the HttpOnly cookie, never into the page.
  login: (body: Omit<LoginRequest, 'session'>) =>
    request<SessionResponse>('POST', '/api/auth/login', { body: { ...body, session: 'cookie' } satisfies LoginRequest }),
  // The refresh token travels only in the HttpOnly session cookie (edge/src/auth/sessionCookie.ts).
  refresh: () => request<SessionResponse>('POST', '/api/auth/refresh', { body: {} satisfies RefreshRequest }),
  logout: () => request<undefined>('POST', '/api/auth/logout', { body: {} satisfies RefreshRequest }),
  socketTicket: (token: string) => request<SocketTicketResponse>('POST', '/api/sockets/ticket', { token }),
  users: (token: string) => request<DirectoryResponse>('GET', '/api/users', { token }),
  calls: (token: string) => request<CallHistoryResponse>('GET', '/api/calls', { token }),
  turnCredentials: (token: string) => request<TurnCredentialsResponse>('GET', '/api/turn-credentials', { token }),

  // 202 either way (SignupStarted echoes the address); the mail says what happens next.
  signup: (body: SignupRequest) => request<undefined>('POST', '/api/signup', { body }),
  confirmSignup: (token: string) =>
    request<SessionResponse>('POST', '/api/signup/confirm', { body: { token, session: 'cookie' } satisfies SignupConfirmRequest }),
  acceptInvite: (body: Omit<AcceptInviteRequest, 'session'>) =>
    request<SessionResponse>('POST', '/api/invites/accept', { body: { ...body, session: 'cookie' } satisfies AcceptInviteRequest }),
  createInvite: (token: string, body: CreateInviteRequest) => request<InviteResponse>('POST', '/api/invites', { token, body }),
  adminUsers: (token: string) => request<AdminUsersResponse>('GET', '/api/admin/users', { token }),
  pstnPolicy: (token: string) => request<PstnPolicy>('GET', '/api/admin/pstn/policy', { token }),
  savePstnPolicy: (token: string, body: PstnPolicy) => request<PstnPolicy>('PUT', '/api/admin/pstn/policy', { token, body }),
  phoneNumbers: (token: string) => request<PhoneNumberList>('GET', '/api/admin/numbers', { token }),
  addPhoneNumber: (token: string, body: AddPhoneNumberRequest) => request<PhoneNumberView>('POST', '/api/admin/numbers', { token, body }),
  updatePhoneNumber: (token: string, number: string, body: UpdatePhoneNumberRequest) =>
    request<PhoneNumberView>('PATCH', `/api/admin/numbers/${encodeURIComponent(number)}`, { token, body }),
  deletePhoneNumber: (token: string, number: string) => request<undefined>('DELETE', `/api/admin/numbers/${encodeURIComponent(number)}`, { token }),
  ringGroups: (token: string) => request<RingGroupList>('GET', '/api/admin/ring-groups', { token }),
  addRingGroup: (token: string, body: CreateRingGroupRequest) => request<RingGroupView>('POST', '/api/admin/ring-groups', { token, body }),
  deleteRingGroup: (token: string, id: string) => request<undefined>('DELETE', `/api/admin/ring-groups/${encodeURIComponent(id)}`, { token }),
  pstnCalls: (token: string) => request<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=50', { token }),
  billing: (token: string) => request<BillingView>('GET', '/api/admin/billing', { token }),
  saveSpendLimits: (token: string, body: SpendLimits) => request<SpendLimits>('PUT', '/api/admin/billing/limits', { token, body }),
  billingUsage: (token: string, by: UsageGrouping) => request<UsageReport>('GET', `/api/admin/billing/usage?by=${by}`, { token }),
  rateDeck: (token: string) => download('/api/admin/billing/rate-deck', token),
  uploadRateDeck: (token: string, body: RateDeckUpload) => request<RateDeckImported>('POST', '/api/admin/billing/rate-decks', { token, body }),
  invoices: (token: string) => request<InvoiceList>('GET', '/api/admin/billing/invoices', { token }),
  invoice: (token: string, id: string) => request<InvoiceDetail>('GET', `/api/admin/billing/invoices/${encodeURIComponent(id)}`, { token }),
  invoicePdf: (token: string, id: string) => download(`/api/admin/billing/invoices/${encodeURIComponent(id)}/pdf`, token),
  closePeriod: (token: string) => request<InvoiceDetail>('POST', '/api/admin/billing/close-period', { token }),
  setRole: (token: string, userId: string, body: v.InferOutput<typeof ChangeRoleRequest>) =>
    request<undefined>('PUT', `/api/admin/users/${encodeURIComponent(userId)}/role`, { token, body }),
  deactivate: (token: string, userId: string) => request<undefined>('POST', `/api/admin/users/${encodeURIComponent(userId)}/deactivate`, { token }),
  apiKeys: (token: string) => request<ApiKeysResponse>('GET', '/api/admin/api-keys', { token }),
  createApiKey: (token: string, body: v.InferOutput<typeof CreateApiKeyRequest>) => request<CreatedApiKey>('POST', '/api/admin/api-keys', { token, body }),
  revokeApiKey: (token: string, keyId: string) => request<undefined>('DELETE', `/api/admin/api-keys/${encodeURIComponent(keyId)}`, { token }),
  /** `query` comes from `auditQuery` (audit.ts). */
  audit: (token: string, query: string) => request<AuditLogResponse>('GET', `/api/admin/audit?${query}`, { token }),

  logoutAll: (token: string) => request<undefined>('POST', '/api/auth/logout-all', { token }),
  requestPasswordReset: (body: PasswordResetRequest) => request<undefined>('POST', '/api/auth/password-reset', { body }),
  confirmPasswordReset: (body: PasswordResetConfirmRequest) => request<undefined>('POST', '/api/auth/password-reset/confirm', { body }),
  changePassword: (token: string, body: Omit<ChangePasswordRequest, 'session'>) =>
    request<SessionResponse>('PUT', '/api/me/password', { token, body: { ...body, session: 'cookie' } satisfies ChangePasswordRequest }),
  sipCredentials: (token: string) => request<SipCredentialsView>('GET', '/api/me/sip-credentials', { token }),
  callerId: (token: string) => request<CallerIdView>('GET', '/api/me/caller-id', { token }),
  setCallerId: (token: string, body: UpdateCallerIdRequest) => request<CallerIdView>('PUT', '/api/me/caller-id', { token, body }),
  rotateSipCredentials: (token: string) => request<RevealedSipCredentials>('POST', '/api/me/sip-credentials', { token }),
  exportMyData: (token: string) => download('/api/me/export', token),
  eraseAccount: (token: string, body: EraseAccountRequest) => request<undefined>('DELETE', '/api/me', { token, body }),

  /** `query` is `q=` and/or `favorites=true`, from `contactsQuery`. */
  contacts: (token: string, query: string) => request<ContactsResponse>('GET', `/api/contacts?${query}`, { token }),
  createContact: (token: string, body: CreateContactRequest) => request<ContactView>('POST', '/api/contacts', { token, body }),
  updateContact: (token: string, id: string, body: UpdateContactRequest) => request<ContactView>('PATCH', contactPath(id), { token, body }),
  deleteContact: (token: string, id: string) => request<undefined>('DELETE', contactPath(id), { token }),

  recordings: (token: string) => request<RecordingsResponse>('GET', '/api/recordings', { token }),
  voicemails: (token: string) => request<VoicemailList>('GET', '/api/voicemail', { token }),
  /** The message's audio (Ogg Opus); fetching it marks it heard. */
  voicemailAudio: (token: string, id: string) => download(`/api/voicemail/${encodeURIComponent(id)}/audio`, token),
  deleteVoicemail: (token: string, id: string) => request<undefined>('DELETE', `/api/voicemail/${encodeURIComponent(id)}`, { token }),
  greetingInfo: (token: string) => request<VoicemailGreetingInfo>('GET', '/api/voicemail/greeting/info', { token }),
  greetingAudio: (token: string) => download('/api/voicemail/greeting', token),
  /** The audio file as chosen (its type is the upload's content type). */
  setGreeting: (token: string, file: Blob) => request<undefined>('PUT', '/api/voicemail/greeting', { token, body: file }),
  deleteGreeting: (token: string) => request<undefined>('DELETE', '/api/voicemail/greeting', { token }),
  /** `downloadPath` of a track (RecordingTrackView): the file, following a storage redirect. */
  recordingTrack: (token: string, downloadPath: string) => download(downloadPath, token),
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
