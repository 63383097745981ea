/**
 * The permission matrix: which role may do what. The edge checks one permission on every route;
 * the web app reads the same table to decide what to show (the edge stays the authority).
 */
import type { Role } from './api.ts';

const EVERYONE: readonly Role[] = ['admin', 'operator', 'user'];

export const PERMISSIONS = {
  'directory.read': EVERYONE,
  'calls.read_own': EVERYONE,
  'turn.use': EVERYONE,
  'account.manage_own': EVERYONE,
  'contacts.manage_own': EVERYONE,
  'users.manage': ['admin'],
  'users.read_all': ['admin', 'operator'],
  'calls.read_all': ['admin', 'operator'],
  'invites.create': ['admin'],
  'api_keys.manage': ['admin'],
  'audit.read': ['admin', 'operator'],
  /** The recordings of rooms one was in (the edge checks participation per recording). */
  'recordings.read_own': EVERYONE,
  /** Start and stop recording in any room of the tenant (a room's creator may in their own room). */
  'recordings.manage': ['admin', 'operator'],
  /** Every recording of the tenant, participant or not. */
  'recordings.read_all': ['admin', 'operator'],
  /** The organisation's numbers, calling policy and calls to the outside: seeing them, and changing them. */
  'pstn.read': ['admin', 'operator'],
  'pstn.manage': ['admin'],
  /** The organisation's billing: its spend, usage and limits; and changing the limits. */
  'billing.read': ['admin', 'operator'],
  'billing.manage': ['admin'],
  /** One's own voicemail: listening to messages, marking and deleting them. */
  'voicemail.manage_own': EVERYONE,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
