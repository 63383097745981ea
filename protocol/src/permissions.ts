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
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
