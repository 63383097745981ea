import type { MediaFleet } from './fleet/MediaFleet.ts';
import type { PresenceShard } from './presence/PresenceShard.ts';
import type { Room } from './rooms/Room.ts';
import type { CallSession } from './signaling/CallSession.ts';
import type { UserHub } from './signaling/UserHub.ts';

/** Bindings and configuration of the Worker (wrangler.toml `[vars]`, secrets, `--var`). */
export interface Env {
  ASSETS: Fetcher;
  USER_HUB: DurableObjectNamespace<UserHub>;
  CALL_SESSION: DurableObjectNamespace<CallSession>;
  PRESENCE_SHARD: DurableObjectNamespace<PresenceShard>;
  ROOM: DurableObjectNamespace<Room>;
  MEDIA_FLEET: DurableObjectNamespace<MediaFleet>;
  /** Postgres connection string (Neon in production). Secret. */
  DATABASE_URL: string;
  /** Local development only: ws:// URL of the WebSocket-to-TCP relay in front of Postgres. */
  NEON_WS_PROXY?: string;
  /** HMAC key for access tokens. Secret. */
  JWT_SECRET: string;
  /** Key id stamped into access tokens so keys can rotate. */
  JWT_KID?: string;
  /** coturn `static-auth-secret`. Secret. When absent, no TURN server is offered. */
  TURN_SECRET?: string;
  /** Comma-separated TURN/STUN URLs, e.g. `turn:turn.example.com:3478?transport=udp,turns:turn.example.com:443`. */
  TURN_URLS?: string;
  TURN_TTL_SECONDS?: string;
  /** How long a call may ring before it ends as no-answer. */
  RING_TIMEOUT_SECONDS?: string;
  /** Sign-in throttling: failures allowed per account / per IP in 15 minutes, and the first lock. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT?: string;
  LOGIN_MAX_FAILURES_PER_IP?: string;
  LOGIN_LOCK_BASE_SECONDS?: string;
  /** Verification-only signing keys of earlier rotations: `kid:secret,kid:secret`. Secret. */
  JWT_PREVIOUS_KEYS?: string;
  /** HTTP mail API (Resend-compatible `POST {from,to,subject,text}`); unset: mail waits in the outbox. */
  MAIL_ENDPOINT?: string;
  /** Bearer key of the mail API. Secret. */
  MAIL_API_KEY?: string;
  MAIL_FROM?: string;
  /** Public base URL for links in mail (reset links); defaults to the request's origin. */
  PUBLIC_URL?: string;
  /** Digest realm of SIP credentials. */
  SIP_REALM?: string;
  /** Presence shards per tenant (default 4); see edge/README.md "Presence" before changing it. */
  PRESENCE_SHARDS?: string;
  /** How long a user whose last device left stays as they were before going offline (default 30). */
  PRESENCE_OFFLINE_GRACE_SECONDS?: string;
  /** HMAC key shared with the media nodes (control API, events, registration). Secret. */
  MEDIA_CONTROL_SECRET?: string;
  /** A node not heard from for this long gets no rooms, and its rooms move (default 180). */
  MEDIA_NODE_TTL_SECONDS?: string;
  /**
   * S3-compatible storage the media nodes upload recordings to (their MEDIA_RECORDINGS_S3_*):
   * the edge presigns download URLs with these. Unset: recordings stay on the nodes' disks.
   */
  RECORDINGS_S3_ENDPOINT?: string;
  RECORDINGS_S3_BUCKET?: string;
  RECORDINGS_S3_REGION?: string;
  RECORDINGS_S3_ACCESS_KEY_ID?: string;
  /** Secret. */
  RECORDINGS_S3_SECRET_ACCESS_KEY?: string;
  /** Participants per room (default 30: about what one 4-vCPU node carries with video). */
  ROOM_MAX_PARTICIPANTS?: string;
}
