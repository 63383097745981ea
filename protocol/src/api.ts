/**
 * REST API bodies (under `/api`). Requests are validated by the edge with these schemas; the web
 * app uses the inferred types for what it reads.
 */
import * as v from 'valibot';

export const Email = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.email(), v.maxLength(254));

export const LoginRequest = v.object({
  email: Email,
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
});
export type LoginRequest = v.InferOutput<typeof LoginRequest>;

export const RefreshRequest = v.object({ refreshToken: v.pipe(v.string(), v.minLength(16), v.maxLength(256)) });
export type RefreshRequest = v.InferOutput<typeof RefreshRequest>;

export type Role = 'admin' | 'operator' | 'user';

export interface UserView {
  id: string;
  tenantId: string;
  email: string;
  displayName: string;
  role: Role;
}

export interface SessionResponse {
  accessToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshToken: string;
  user: UserView;
}

export interface DirectoryEntry {
  id: string;
  displayName: string;
  email: string;
}

export interface DirectoryResponse {
  users: DirectoryEntry[];
}

export interface CallRecordView {
  callId: string;
  direction: 'outgoing' | 'incoming';
  peer: { userId: string; displayName: string };
  createdAt: string;
  answeredAt: string | null;
  endedAt: string;
  endReason: string;
  durationMs: number;
}

export interface CallHistoryResponse {
  calls: CallRecordView[];
}

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface TurnCredentialsResponse {
  username: string;
  password: string;
  /** Seconds the credentials stay valid. */
  ttl: number;
  iceServers: IceServer[];
}

// ---- tenants, invites, roles, API keys, audit (issue 3) ----------------------------------------

export const RoleSchema = v.picklist(['admin', 'operator', 'user']);
const Password = v.pipe(v.string(), v.minLength(10, 'use at least 10 characters'), v.maxLength(256));
const DisplayName = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100));

export const SignupRequest = v.object({
  organisation: v.pipe(v.string(), v.trim(), v.minLength(2), v.maxLength(100)),
  displayName: DisplayName,
  email: Email,
  password: Password,
});
export type SignupRequest = v.InferOutput<typeof SignupRequest>;

export const CreateInviteRequest = v.object({ email: Email, role: RoleSchema });
export type CreateInviteRequest = v.InferOutput<typeof CreateInviteRequest>;

export interface InviteResponse {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
  /** The secret part of the link; shown once. */
  token: string;
  url: string;
}

export const AcceptInviteRequest = v.object({
  token: v.pipe(v.string(), v.minLength(16), v.maxLength(256)),
  displayName: DisplayName,
  password: Password,
});
export type AcceptInviteRequest = v.InferOutput<typeof AcceptInviteRequest>;

export const ChangeRoleRequest = v.object({ role: RoleSchema });

export interface AdminUserView extends UserView {
  active: boolean;
  createdAt: string;
}

export interface AdminUsersResponse {
  users: AdminUserView[];
}

export const CreateApiKeyRequest = v.object({ name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)), role: RoleSchema });

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
}

export interface CreatedApiKey extends ApiKeyView {
  /** The whole key; shown once, stored only as a hash. */
  key: string;
}
