/**
 * The identity of a WebSocket: proven by the Worker (access token) before the upgrade, handed to
 * the Durable Object in trusted headers, and kept across hibernation in the socket's attachment.
 */
import { withoutLoneSurrogates } from '@callstack/protocol';
import type { NamedActor } from './actor.ts';

export type DeviceIdentity = NamedActor;

/** The socket ticket the Worker checked, for the user's hub to spend (signaling/connect.ts). */
export const SOCKET_TICKET_HEADER = 'X-CallStack-Ticket';

const IDENTITY_HEADERS = {
  tenantId: 'X-CallStack-Tenant',
  userId: 'X-CallStack-User',
  deviceId: 'X-CallStack-Device',
  displayName: 'X-CallStack-Name',
} as const;

/**
 * Headers the Worker sets on the upgrade it forwards. The name is percent-encoded (headers are
 * Latin-1); a lone surrogate (names stored before text was checked) becomes U+FFFD first, as it
 * would make the encoding throw.
 */
export function identityHeaders(identity: DeviceIdentity): Record<string, string> {
  return {
    [IDENTITY_HEADERS.tenantId]: identity.tenantId,
    [IDENTITY_HEADERS.userId]: identity.userId,
    [IDENTITY_HEADERS.deviceId]: identity.deviceId,
    [IDENTITY_HEADERS.displayName]: encodeURIComponent(withoutLoneSurrogates(identity.displayName)),
  };
}

/** The identity the Worker forwarded; null when a header is missing or malformed. */
export function readIdentity(headers: Headers): DeviceIdentity | null {
  const tenantId = headers.get(IDENTITY_HEADERS.tenantId);
  const userId = headers.get(IDENTITY_HEADERS.userId);
  const deviceId = headers.get(IDENTITY_HEADERS.deviceId);
  const displayName = headers.get(IDENTITY_HEADERS.displayName);
  if (!tenantId || !userId || !deviceId || displayName === null) return null;
  try {
    return { tenantId, userId, deviceId, displayName: decodeURIComponent(displayName) };
  } catch {
    return null;
  }
}
