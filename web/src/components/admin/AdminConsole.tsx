import { api } from '../../api.ts';
import { useFetched, useVersion } from '../../hooks.ts';
import type { ConsoleAccess } from '../../roles.ts';
import { routePath, type AdminTab } from '../../route.ts';
import type { Session } from '../../session.ts';
import { Link } from '../Link.tsx';
import { ApiKeysPanel } from './ApiKeysPanel.tsx';
import { AuditPanel } from './AuditPanel.tsx';
import { BillingPanel } from './BillingPanel.tsx';
import { NumbersPanel } from './NumbersPanel.tsx';
import { UsersPanel } from './UsersPanel.tsx';

const TABS: { tab: AdminTab; label: string; allowed: (access: ConsoleAccess) => boolean }[] = [
  { tab: 'users', label: 'Users', allowed: (access) => access.console },
  { tab: 'numbers', label: 'Numbers', allowed: (access) => access.pstn },
  { tab: 'billing', label: 'Billing', allowed: (access) => access.billing },
  { tab: 'api-keys', label: 'API keys', allowed: (access) => access.apiKeys },
  { tab: 'audit', label: 'Audit log', allowed: (access) => access.console },
];

/** The organisation's console; each role sees the sections the permission matrix gives it. */
export function AdminConsole({ session, tab, access }: { session: Session; tab: AdminTab; access: ConsoleAccess }) {
  const shown = TABS.filter((entry) => entry.allowed(access));
  const current = shown.some((entry) => entry.tab === tab) ? tab : 'users';
  const [version, reload] = useVersion();
  // Users name the actors of the audit log too; reloaded on each visit to a section.
  const users = useFetched(`${current}:${version}`, () => session.authed(api.adminUsers).then((response) => response.users));

  return (
    <div class="admin-console" data-testid="admin-console">
      <nav class="tabs" aria-label="Admin sections">
        {shown.map((entry) => (
          <Link
            key={entry.tab}
            href={routePath({ screen: 'admin', tab: entry.tab })}
            class="tab"
            current={entry.tab === current}
            testid={`admin-tab-${entry.tab}`}
          >
            {entry.label}
          </Link>
        ))}
      </nav>
      {current === 'users' && <UsersPanel session={session} users={users} canManage={access.manageUsers} onChanged={reload} />}
      {current === 'numbers' && <NumbersPanel session={session} users={users.data ?? []} canManage={access.managePstn} />}
      {current === 'billing' && <BillingPanel session={session} canManage={access.manageBilling} />}
      {current === 'api-keys' && <ApiKeysPanel session={session} />}
      {current === 'audit' && <AuditPanel session={session} users={users.data ?? []} canSeeKeys={access.apiKeys} />}
    </div>
  );
}
