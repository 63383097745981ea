/** Enforces the permission matrix of `@callstack/protocol` (edge/README.md shows the table). */
import { can, ErrorCode, type Permission } from '@callstack/protocol';
import { ApiError } from '../errors.ts';
import type { Principal } from './tokens.ts';

export { PERMISSIONS, type Permission } from '@callstack/protocol';

export function authorize(principal: Principal, permission: Permission): void {
  if (!can(principal.role, permission)) {
    throw new ApiError(ErrorCode.forbidden, `your role (${principal.role}) may not do this (${permission})`);
  }
}
