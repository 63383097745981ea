/**
 * A user's presence, folded over all of their devices. Pure, so the precedence is testable alone;
 * UserPresence supplies the inputs from the hub's sockets and calls.
 */
import type { PresenceStatus } from '@callstack/protocol';

export interface PresenceInputs {
  /** Connected devices of the user (one entry per device id). */
  devices: readonly { idle: boolean }[];
  /** The last device left less than the offline grace period ago. */
  withinGrace: boolean;
  /** The user is in a ringing or active call. */
  inCall: boolean;
  manual: 'away' | 'dnd' | null;
}

/**
 * no device (after the grace) → offline; dnd → dnd; in a call → busy; manual away or every device
 * idle → away; else online. While the grace runs with no device, the previous status holds: a
 * reloading tab must not make watchers see a flicker (each change costs a tenant-wide fan-out).
 */
export function foldPresence(inputs: PresenceInputs, previous: PresenceStatus): PresenceStatus {
  if (inputs.devices.length === 0) return inputs.withinGrace ? previous : 'offline';
  if (inputs.manual === 'dnd') return 'dnd';
  if (inputs.inCall) return 'busy';
  if (inputs.manual === 'away' || inputs.devices.every((device) => device.idle)) return 'away';
  return 'online';
}

/** `since` of a new status: now, but always later than the previous one so shards can order updates. */
export function nextSince(previousSince: number, now: number): number {
  return Math.max(now, previousSince + 1);
}

/** The activity one socket of the user reports (`presence.activity`, kept in its attachment). */
export interface SocketActivity {
  deviceId: string;
  idle: boolean;
}

/** One entry per device id: a device with several sockets is idle only if all of them say so. */
export function devicesOf(sockets: readonly SocketActivity[]): { idle: boolean }[] {
  const byDevice = new Map<string, { idle: boolean }>();
  for (const socket of sockets) {
    byDevice.set(socket.deviceId, { idle: socket.idle && (byDevice.get(socket.deviceId)?.idle ?? true) });
  }
  return [...byDevice.values()];
}
