/**
 * What the admin console shows each role. It mirrors the edge's permission matrix
 * (edge/src/auth/permissions.ts, not importable here), which stays the authority: the edge refuses
 * anything this lets through by mistake.
 */
import type { Role } from '@callstack/protocol';

export interface ConsoleAccess {
  /** The console at all: the users list and the audit log (users.read_all, audit.read). */
  console: boolean;
  /** Role changes, deactivation, invites (users.manage, invites.create). */
  manageUsers: boolean;
  /** api_keys.manage */
  apiKeys: boolean;
}

export function consoleAccess(role: Role): ConsoleAccess {
  return { console: role === 'admin' || role === 'operator', manageUsers: role === 'admin', apiKeys: role === 'admin' };
}

export const ROLE_LABELS: Record<Role, string> = { admin: 'Admin', operator: 'Operator', user: 'User' };
