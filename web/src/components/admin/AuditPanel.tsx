import { useState } from 'preact/hooks';
import type { AdminUserView, AuditEntry } from '@callstack/protocol';
import { api } from '../../api.ts';
import { AUDIT_ACTIONS, auditActionLabel, auditDetails, auditPage, auditQuery, NO_FILTER, type AuditFilter } from '../../audit.ts';
import { formatWhen } from '../../format.ts';
import { useFetched, useVersion } from '../../hooks.ts';
import type { Session } from '../../session.ts';

interface AuditPanelProps {
  session: Session;
  users: AdminUserView[];
  /** Admins may list API keys, which names the entries keys made. */
  canSeeKeys: boolean;
}

/**
 * The audit log, newest first, filtered by action and actor and paged with the edge's `before`
 * cursor. The edge has no date filter, so there is none here.
 */
export function AuditPanel({ session, users, canSeeKeys }: AuditPanelProps) {
  const [filter, setFilter] = useState<AuditFilter>(NO_FILTER);
  // Cursors of the pages seen so far; the last one is shown (null: the newest page).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [version, reload] = useVersion();
  const before = cursors.at(-1) ?? null;

  const keys = useFetched(canSeeKeys ? 'keys' : null, () => session.authed(api.apiKeys).then((response) => response.keys));
  const page = useFetched(JSON.stringify([filter, before, version]), () =>
    session.authed((token) => api.audit(token, auditQuery(filter, before))).then((response) => auditPage(response.entries)),
  );

  const names = new Map<string, string>([
    ...users.map((user) => [user.id, user.displayName] as const),
    ...(keys.data ?? []).map((key) => [key.id, `API key “${key.name}”`] as const),
  ]);

  function choose(change: Partial<AuditFilter>): void {
    setFilter({ ...filter, ...change });
    setCursors([null]);
  }

  let body;
  if (page.data === null) body = <p class="muted">{page.error ?? 'Loading…'}</p>;
  else if (page.data.entries.length === 0)
    body = (
      <p class="muted" data-testid="audit-empty">
        {filter.action || filter.actor ? 'No entries match these filters.' : 'Nothing recorded yet.'}
      </p>
    );
  else
    body = (
      <div class="table-wrap">
        <table class="table" data-testid="audit-table">
          <caption class="sr-only">Audit log entries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Concerning</th>
              <th scope="col">Details</th>
              <th scope="col">IP</th>
            </tr>
          </thead>
          <tbody>
            {page.data.entries.map((entry) => (
              <tr key={entry.id} data-testid="audit-row" data-action={entry.action} data-actor-id={entry.actorId ?? ''}>
                <td>
                  <time dateTime={entry.createdAt}>{formatWhen(entry.createdAt)}</time>
                </td>
                <td>{actorName(entry, names)}</td>
                <td>{auditActionLabel(entry.action)}</td>
                <td>{targetName(entry, names)}</td>
                <td>{auditDetails(entry)}</td>
                <td>{entry.ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );

  return (
    <section class="card" aria-labelledby="audit-title" aria-busy={page.loading}>
      <div class="card-head">
        <h2 id="audit-title">Audit log</h2>
        <button
          type="button"
          class="btn btn-small"
          data-testid="audit-refresh"
          disabled={page.loading}
          onClick={() => {
            setCursors([null]);
            reload();
          }}
        >
          {page.loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      <div class="inline-form" role="group" aria-label="Filters">
        <div class="field">
          <label for="audit-action">Action</label>
          <select id="audit-action" data-testid="audit-action" value={filter.action} onChange={(event) => choose({ action: event.currentTarget.value })}>
            <option value="">Any action</option>
            {Object.entries(AUDIT_ACTIONS).map(([action, label]) => (
              <option key={action} value={action}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="audit-actor">Who</label>
          <select id="audit-actor" data-testid="audit-actor" value={filter.actor} onChange={(event) => choose({ actor: event.currentTarget.value })}>
            <option value="">Anyone</option>
            {[...names].map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          class="btn btn-small"
          data-testid="audit-clear"
          disabled={filter.action === '' && filter.actor === ''}
          onClick={() => choose(NO_FILTER)}
        >
          Clear filters
        </button>
      </div>
      {page.data !== null && page.error && <p class="error">{page.error}</p>}
      {body}
      <nav class="pager" aria-label="Audit log pages">
        <button
          type="button"
          class="btn btn-small"
          data-testid="audit-newer"
          disabled={cursors.length === 1 || page.loading}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Newer
        </button>
        <span class="muted" data-testid="audit-page">
          Page {cursors.length}
        </span>
        <button
          type="button"
          class="btn btn-small"
          data-testid="audit-older"
          disabled={!page.data?.older || page.loading}
          onClick={() => page.data?.older && setCursors([...cursors, page.data.older])}
        >
          Older
        </button>
      </nav>
    </section>
  );
}

function actorName(entry: AuditEntry, names: Map<string, string>): string {
  if (entry.actorType === 'anonymous' || entry.actorId === null) return 'Someone not signed in';
  return names.get(entry.actorId) ?? (entry.actorType === 'api_key' ? 'An API key' : 'A former user');
}

function targetName(entry: AuditEntry, names: Map<string, string>): string {
  if (entry.targetType === 'tenant') return 'The organisation';
  if (entry.targetType === 'invite') return typeof entry.details.email === 'string' ? `Invite for ${entry.details.email}` : 'An invite';
  if (entry.targetId === null) return '—';
  return names.get(entry.targetId) ?? entry.targetId;
}
