/**
 * What the admin console shows each role, read from the permission matrix the edge enforces
 * (`@callstack/protocol`); the edge stays the authority.
 */
import { can, type Role } from '@callstack/protocol';

export interface ConsoleAccess {
  /** The console at all: the users list and the audit log (users.read_all, audit.read). */
  console: boolean;
  /** Role changes, deactivation, invites (users.manage, invites.create). */
  manageUsers: boolean;
  /** api_keys.manage */
  apiKeys: boolean;
  /** Numbers, the calling policy and the outside calls' records (pstn.read); changing them (pstn.manage). */
  pstn: boolean;
  managePstn: boolean;
  /** Spend, usage and the rate deck (billing.read); the spend caps (billing.manage). */
  billing: boolean;
  manageBilling: boolean;
}

export function consoleAccess(role: Role): ConsoleAccess {
  return {
    console: can(role, 'users.read_all'),
    manageUsers: can(role, 'users.manage'),
    apiKeys: can(role, 'api_keys.manage'),
    pstn: can(role, 'pstn.read'),
    managePstn: can(role, 'pstn.manage'),
    billing: can(role, 'billing.read'),
    manageBilling: can(role, 'billing.manage'),
  };
}

export const ROLE_LABELS: Record<Role, string> = { admin: 'Admin', operator: 'Operator', user: 'User' };
