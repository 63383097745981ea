/** The audit log's filters, paging and labels (pure, so they are unit-tested). */
import type { AuditEntry } from '@callstack/protocol';

/** Empty strings mean "any". `actor` is a user or API key id. */
export interface AuditFilter {
  action: string;
  actor: string;
}

export const NO_FILTER: AuditFilter = { action: '', actor: '' };
export const AUDIT_PAGE_SIZE = 25;

/** What the edge records (edge/README.md, "Audited"), in the words the console uses. */
export const AUDIT_ACTIONS: Record<string, string> = {
  'tenant.created': 'Organisation created',
  'invite.created': 'Invite sent',
  'invite.accepted': 'Invite accepted',
  'user.role_changed': 'Role changed',
  'user.deactivated': 'User deactivated',
  'api_key.created': 'API key created',
  'api_key.revoked': 'API key revoked',
  'api_key.used': 'API key used',
  'auth.login_failed': 'Failed sign-in',
  'recording.started': 'Recording started',
  'recording.stopped': 'Recording stopped',
  'recording.downloaded': 'Recording downloaded',
};

export function auditActionLabel(action: string): string {
  return AUDIT_ACTIONS[action] ?? action;
}

/**
 * The query string for one page older than `before` (null: the newest). It asks for one entry
 * more than a page, because the edge does not say whether older entries exist.
 */
export function auditQuery(filter: AuditFilter, before: string | null, pageSize = AUDIT_PAGE_SIZE): string {
  const params = new URLSearchParams();
  if (filter.action) params.set('action', filter.action);
  if (filter.actor) params.set('actor', filter.actor);
  if (before) params.set('before', before);
  params.set('limit', String(pageSize + 1));
  return params.toString();
}

/** Splits an answer to `auditQuery` into the page to show and the cursor of the next older page. */
export function auditPage(entries: AuditEntry[], pageSize = AUDIT_PAGE_SIZE): { entries: AuditEntry[]; older: string | null } {
  const shown = entries.slice(0, pageSize);
  return { entries: shown, older: entries.length > pageSize ? (shown.at(-1)?.id ?? null) : null };
}

/** `{from: 'user', to: 'operator'}` → `from user to operator`; other details as `key: value` pairs. */
export function auditDetails(entry: Pick<AuditEntry, 'action' | 'details'>): string {
  const { details } = entry;
  if (entry.action === 'user.role_changed' && typeof details.from === 'string' && typeof details.to === 'string') {
    return `from ${details.from} to ${details.to}`;
  }
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}
