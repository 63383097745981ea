/**
 * REST API bodies (under `/api`). Requests are validated by the edge with these schemas; the web
 * app uses the inferred types for what it reads. Every string a request carries is `Text` (free
 * text: names) or `Verbatim` (passwords, tokens, ids), so none reaches the edge with a NUL or a
 * lone surrogate (`api.test.ts` checks every field).
 */
import * as v from 'valibot';
import { ProducerSource } from './mediaControl.ts';
import { minCharacters, Text, Verbatim } from './text.ts';

/** `v.email`'s pattern admits neither NUL nor surrogates, so an address is as clean as `Text`. */
const Email = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.email(), v.maxLength(254));
/** A person's name as typed (users, contacts); also what the edge shows of them on the sockets. */
export const DisplayName = Text({ min: 1, max: 100 });
/**
 * A name as the edge shows it in its own frames: whatever is stored, checked only for size. Names
 * stored before `Text` existed may hold a tab or another control character; a client must not drop
 * a whole frame (a room's participant list, an incoming call) because of one such name.
 */
export const ShownName = v.pipe(v.string(), v.maxLength(256));
/** What the account's password is checked against (sign-in, erase, change): any it was set to. */
/**
 * A password being checked, taken as sent: it is only ever hashed (never stored or logged), and a
 * password set before `Verbatim` existed may hold what Verbatim now refuses.
 */
const CurrentPassword = v.pipe(v.string(), v.minLength(1), v.maxLength(256));

/**
 * Where the refresh token of a new session goes: `cookie` (what the softphone asks) sets it as an
 * `HttpOnly; Secure; SameSite=Strict` cookie scoped to `/api/auth` and leaves it out of the body,
 * so no script on the page can read it; `token` (the default, for API clients) puts it in the body.
 */
export const SessionDelivery = v.optional(v.picklist(['cookie', 'token']), 'token');
export type SessionDelivery = v.InferOutput<typeof SessionDelivery>;

export const LoginRequest = v.object({
  email: Email,
  password: CurrentPassword,
  session: SessionDelivery,
});
export type LoginRequest = v.InferOutput<typeof LoginRequest>;

/** The refresh token in the body, or (no `refreshToken`) in the session cookie; the answer goes back the same way. */
export const RefreshRequest = v.object({ refreshToken: v.optional(Verbatim({ min: 16, max: 256 })) });
export type RefreshRequest = v.InferOutput<typeof RefreshRequest>;

const RoleSchema = v.picklist(['admin', 'operator', 'user']);
export type Role = v.InferOutput<typeof RoleSchema>;

export const UserView = v.object({ id: v.string(), tenantId: v.string(), email: v.string(), displayName: v.string(), role: RoleSchema });
export type UserView = v.InferOutput<typeof UserView>;

export const SessionResponse = v.object({
  accessToken: v.string(),
  /** Seconds until the access token expires. */
  expiresIn: v.number(),
  /** Absent when the session lives in the cookie (`SessionDelivery`). */
  refreshToken: v.optional(v.string()),
  user: UserView,
});
export type SessionResponse = v.InferOutput<typeof SessionResponse>;

/** `POST /api/sockets/ticket`: what `?ticket=` of a WebSocket upgrade carries; one upgrade, within `expiresIn` seconds. */
export const SocketTicketResponse = v.object({ ticket: v.string(), expiresIn: v.number() });
export type SocketTicketResponse = v.InferOutput<typeof SocketTicketResponse>;

export const PrincipalView = v.object({
  actorType: v.picklist(['user', 'api_key']),
  userId: v.string(),
  tenantId: v.string(),
  role: RoleSchema,
  displayName: v.string(),
});
export type PrincipalView = v.InferOutput<typeof PrincipalView>;

/** `extension`: the short number desk phones dial (unique in the organisation; null only for accounts made before extensions). */
export const DirectoryEntry = v.object({ id: v.string(), displayName: v.string(), email: v.string(), extension: v.nullable(v.string()) });
export type DirectoryEntry = v.InferOutput<typeof DirectoryEntry>;

export const DirectoryResponse = v.object({ users: v.array(DirectoryEntry) });
export type DirectoryResponse = v.InferOutput<typeof DirectoryResponse>;

/** One participant's call quality over a call or a room stay (the CDR's quality columns). */
export const CallQualityView = v.object({
  /** Reports aggregated. */
  samples: v.number(),
  mosMin: v.number(),
  /** Averages are weighted by the time each report covers. */
  mosAvg: v.number(),
  lossAvg: v.number(),
  lossMax: v.number(),
  jitterAvg: v.number(),
  rttAvg: v.number(),
  /** The codec of the last report. */
  codec: v.string(),
});
export type CallQualityView = v.InferOutput<typeof CallQualityView>;

export const CallRecordView = v.object({
  callId: v.string(),
  direction: v.picklist(['outgoing', 'incoming']),
  peer: v.object({ userId: v.string(), displayName: v.string() }),
  createdAt: v.string(),
  answeredAt: v.nullable(v.string()),
  endedAt: v.string(),
  endReason: v.string(),
  durationMs: v.number(),
  /** The requesting user's own quality in this call; null when their device sent no report. */
  quality: v.nullable(CallQualityView),
});
export type CallRecordView = v.InferOutput<typeof CallRecordView>;

export const CallHistoryResponse = v.object({ calls: v.array(CallRecordView) });
export type CallHistoryResponse = v.InferOutput<typeof CallHistoryResponse>;

export const IceServer = v.object({ urls: v.array(v.string()), username: v.optional(v.string()), credential: v.optional(v.string()) });
export type IceServer = v.InferOutput<typeof IceServer>;

export const TurnCredentialsResponse = v.object({
  username: v.string(),
  password: v.string(),
  /** Seconds the credentials stay valid. */
  ttl: v.number(),
  iceServers: v.array(IceServer),
});
export type TurnCredentialsResponse = v.InferOutput<typeof TurnCredentialsResponse>;

// ---- tenants, invites, roles, API keys, audit (issue 3) ----------------------------------------
/** A new password; kept as typed (it is hashed as UTF-8), at least 10 characters. */
const Password = v.pipe(Verbatim({ max: 256 }), minCharacters(10, 'use at least 10 characters'));
const Secret = Verbatim({ min: 16, max: 256 });

/**
 * `POST /api/signup`: always answered 202 `SignupStarted`, whether or not the address has an
 * account, so sign-up cannot probe for accounts. The address gets a link (`/signup#<token>`, 24
 * hours) that creates the organisation (`POST /api/signup/confirm`), or, when it has an account
 * already, a mail that says so.
 */
export const SignupRequest = v.object({
  organisation: Text({ min: 2, max: 100 }),
  displayName: DisplayName,
  email: Email,
  password: Password,
});
export type SignupRequest = v.InferOutput<typeof SignupRequest>;

export const SignupStarted = v.object({ email: v.string() });
export type SignupStarted = v.InferOutput<typeof SignupStarted>;

export const SignupConfirmRequest = v.object({ token: Secret, session: SessionDelivery });
export type SignupConfirmRequest = v.InferOutput<typeof SignupConfirmRequest>;

export const CreateInviteRequest = v.object({ email: Email, role: RoleSchema });
export type CreateInviteRequest = v.InferOutput<typeof CreateInviteRequest>;

export const InviteResponse = v.object({
  id: v.string(),
  email: v.string(),
  role: RoleSchema,
  expiresAt: v.string(),
  /** The secret part of the link; shown once. */
  token: v.string(),
  url: v.string(),
});
export type InviteResponse = v.InferOutput<typeof InviteResponse>;

export const AcceptInviteRequest = v.object({
  token: Secret,
  displayName: DisplayName,
  password: Password,
  session: SessionDelivery,
});
export type AcceptInviteRequest = v.InferOutput<typeof AcceptInviteRequest>;

export const ChangeRoleRequest = v.object({ role: RoleSchema });

export const AdminUserView = v.object({ ...UserView.entries, active: v.boolean(), createdAt: v.string() });
export type AdminUserView = v.InferOutput<typeof AdminUserView>;

export const AdminUsersResponse = v.object({ users: v.array(AdminUserView) });
export type AdminUsersResponse = v.InferOutput<typeof AdminUsersResponse>;

/** A call of the organisation with both parties' quality, for admins and operators. */
export const AdminCallView = v.object({
  callId: v.string(),
  caller: v.object({ userId: v.string(), displayName: v.string() }),
  callee: v.object({ userId: v.string(), displayName: v.string() }),
  createdAt: v.string(),
  answeredAt: v.nullable(v.string()),
  endedAt: v.string(),
  endReason: v.string(),
  durationMs: v.number(),
  quality: v.object({ caller: v.nullable(CallQualityView), callee: v.nullable(CallQualityView) }),
  /** Which kind of device each side used; the callee's is null when nobody answered. */
  legs: v.object({ caller: v.picklist(['web', 'sip']), callee: v.nullable(v.picklist(['web', 'sip'])) }),
  /** The SIP final status a phone's side reported (486, 603, 487...), if any. */
  sipStatus: v.nullable(v.number()),
  /** Invite to ringing, in milliseconds; null when the callee never rang. */
  postDialDelayMs: v.nullable(v.number()),
});
export type AdminCallView = v.InferOutput<typeof AdminCallView>;

export const AdminCallsResponse = v.object({ calls: v.array(AdminCallView) });
export type AdminCallsResponse = v.InferOutput<typeof AdminCallsResponse>;

export const CreateApiKeyRequest = v.object({ name: Text({ min: 1, max: 100 }), role: RoleSchema });

export const ApiKeyView = v.object({
  id: v.string(),
  name: v.string(),
  prefix: v.string(),
  role: RoleSchema,
  createdAt: v.string(),
  lastUsedAt: v.nullable(v.string()),
  revoked: v.boolean(),
});
export type ApiKeyView = v.InferOutput<typeof ApiKeyView>;

export const ApiKeysResponse = v.object({ keys: v.array(ApiKeyView) });
export type ApiKeysResponse = v.InferOutput<typeof ApiKeysResponse>;

/** The whole key is shown once; only its hash is stored. */
export const CreatedApiKey = v.object({ ...ApiKeyView.entries, key: v.string() });
export type CreatedApiKey = v.InferOutput<typeof CreatedApiKey>;

export const AuditEntry = v.object({
  id: v.string(),
  actorType: v.picklist(['user', 'api_key', 'anonymous']),
  actorId: v.nullable(v.string()),
  action: v.string(),
  targetType: v.nullable(v.string()),
  targetId: v.nullable(v.string()),
  ip: v.nullable(v.string()),
  details: v.record(v.string(), v.unknown()),
  createdAt: v.string(),
});
export type AuditEntry = v.InferOutput<typeof AuditEntry>;

export const AuditLogResponse = v.object({ entries: v.array(AuditEntry) });
export type AuditLogResponse = v.InferOutput<typeof AuditLogResponse>;

// ---- account security, SIP credentials, contacts, privacy (issue 3) ----------------------------

export const ChangePasswordRequest = v.object({ currentPassword: CurrentPassword, newPassword: Password, session: SessionDelivery });
export type ChangePasswordRequest = v.InferOutput<typeof ChangePasswordRequest>;

/** Always answered 202, whether or not the account exists, so it cannot probe for accounts. */
export const PasswordResetRequest = v.object({ email: Email });
export type PasswordResetRequest = v.InferOutput<typeof PasswordResetRequest>;

export const PasswordResetConfirmRequest = v.object({ token: Secret, newPassword: Password });
export type PasswordResetConfirmRequest = v.InferOutput<typeof PasswordResetConfirmRequest>;

export const SipCredentialsView = v.object({
  username: v.string(),
  realm: v.string(),
  createdAt: v.string(),
  rotatedAt: v.string(),
});
export type SipCredentialsView = v.InferOutput<typeof SipCredentialsView>;

/** Returned by a rotation only: the password is never stored, so it cannot be shown again. */
export const RevealedSipCredentials = v.object({ ...SipCredentialsView.entries, password: v.string() });
export type RevealedSipCredentials = v.InferOutput<typeof RevealedSipCredentials>;

/**
 * An international number: spaces, dots, dashes and brackets are dropped, then `+` and 2-15
 * digits. Multiline text, because a pasted number may hold tabs or line breaks (dropped too).
 */
const E164 = v.pipe(
  Text({ max: 32, multiline: true }),
  v.transform((raw) => raw.replace(/[\s().-]/g, '')),
  v.regex(/^\+[1-9]\d{1,14}$/, 'use an international number such as +44 20 7946 0958'),
);

const ContactId = Verbatim({ min: 1, max: 64 });

export const CreateContactRequest = v.variant('kind', [
  v.object({ kind: v.literal('user'), userId: ContactId, displayName: v.optional(DisplayName), favorite: v.optional(v.boolean()) }),
  v.object({ kind: v.literal('external'), phone: E164, displayName: DisplayName, favorite: v.optional(v.boolean()) }),
]);
export type CreateContactRequest = v.InferOutput<typeof CreateContactRequest>;

export const UpdateContactRequest = v.pipe(
  v.object({ displayName: v.optional(DisplayName), phone: v.optional(E164), favorite: v.optional(v.boolean()) }),
  v.check((body) => Object.values(body).some((value) => value !== undefined), 'change at least one of displayName, phone, favorite'),
);
export type UpdateContactRequest = v.InferOutput<typeof UpdateContactRequest>;

export const ContactView = v.object({
  id: v.string(),
  kind: v.picklist(['user', 'external']),
  /** Set for colleagues: call them over signaling. */
  userId: v.nullable(v.string()),
  /** Set for external numbers (E.164): called through the SIP trunk. */
  phone: v.nullable(v.string()),
  displayName: v.string(),
  email: v.nullable(v.string()),
  favorite: v.boolean(),
  createdAt: v.string(),
});
export type ContactView = v.InferOutput<typeof ContactView>;

export const ContactsResponse = v.object({ contacts: v.array(ContactView) });
export type ContactsResponse = v.InferOutput<typeof ContactsResponse>;

/** Erasing one's own account asks for the password again. */
export const EraseAccountRequest = v.object({ password: CurrentPassword });
export type EraseAccountRequest = v.InferOutput<typeof EraseAccountRequest>;

// ---- conference recordings ----------------------------------------------------------------------

export const RecordingStatus = v.picklist(['recording', 'completed', 'interrupted']);
export type RecordingStatus = v.InferOutput<typeof RecordingStatus>;

export const RecordingTrackView = v.object({
  trackId: v.string(),
  /** Whose producer it was; null once that user was erased. */
  user: v.nullable(v.object({ userId: v.string(), displayName: v.string() })),
  kind: v.picklist(['audio', 'video']),
  source: ProducerSource,
  codec: v.string(),
  sizeBytes: v.number(),
  durationMs: v.number(),
  /** GET with the bearer token: the file itself, or a redirect to a short-lived storage URL. */
  downloadPath: v.string(),
});
export type RecordingTrackView = v.InferOutput<typeof RecordingTrackView>;

export const RecordingView = v.object({
  id: v.string(),
  roomId: v.string(),
  /** The recorded 1:1 call this recording is of; null for a conference room's recording. */
  callId: v.nullable(v.string()),
  startedBy: v.object({ userId: v.nullable(v.string()), displayName: v.string() }),
  startedAt: v.string(),
  endedAt: v.nullable(v.string()),
  /** `interrupted`: the room moved to another node or its node failed while recording. */
  status: RecordingStatus,
  sizeBytes: v.number(),
  durationMs: v.number(),
  tracks: v.array(RecordingTrackView),
});
export type RecordingView = v.InferOutput<typeof RecordingView>;

export const RecordingsResponse = v.object({ recordings: v.array(RecordingView) });
export type RecordingsResponse = v.InferOutput<typeof RecordingsResponse>;
