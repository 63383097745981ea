/**
 * The permission matrix: which role may do what. Every route names one permission and checks it
 * with `authorize`; edge/README.md shows the same table.
 */
import { ErrorCode, type Role } from '@callstack/protocol';
import { ApiError } from '../errors.ts';
import type { Principal } from './tokens.ts';

const EVERYONE: readonly Role[] = ['admin', 'operator', 'user'];

export const PERMISSIONS = {
  'directory.read': EVERYONE,
  'calls.read_own': EVERYONE,
  'turn.use': EVERYONE,
  'account.manage_own': EVERYONE,
  'contacts.manage_own': EVERYONE,
  'users.manage': ['admin'],
  'users.read_all': ['admin', 'operator'],
  'invites.create': ['admin'],
  'api_keys.manage': ['admin'],
  'audit.read': ['admin', 'operator'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

export function authorize(principal: Principal, permission: Permission): void {
  if (!can(principal.role, permission)) {
    throw new ApiError(ErrorCode.forbidden, `your role (${principal.role}) may not do this (${permission})`);
  }
}
