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
