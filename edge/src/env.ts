import type { RawConfig } from './config.ts';
import type { MediaFleet } from './fleet/MediaFleet.ts';
import type { PresenceShard } from './presence/PresenceShard.ts';
import type { PstnGuard } from './pstn/PstnGuard.ts';
import type { Room } from './rooms/Room.ts';
import type { CallSession } from './signaling/CallSession.ts';
import type { UserHub } from './signaling/UserHub.ts';

/**
 * The Worker's bindings, and its variables and secrets as the runtime hands them over; modules read
 * the variables through `config(env)` (config.ts describes each), never from here.
 */
export interface Env extends RawConfig {
  ASSETS: Fetcher;
  USER_HUB: DurableObjectNamespace<UserHub>;
  CALL_SESSION: DurableObjectNamespace<CallSession>;
  PRESENCE_SHARD: DurableObjectNamespace<PresenceShard>;
  ROOM: DurableObjectNamespace<Room>;
  MEDIA_FLEET: DurableObjectNamespace<MediaFleet>;
  PSTN_GUARD: DurableObjectNamespace<PstnGuard>;
  /** Issued invoices' PDFs (billing/invoiceDocuments.ts). */
  INVOICES: R2Bucket;
}
