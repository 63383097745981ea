/**
 * An organisation runs itself in real Chromium: sign-up, an invite accepted in another browser,
 * role change, an API key shown once that works until revoked, deactivation, and the audit log
 * that records all of it; the numbers and the calling policy. Operators and users see only what the
 * permission matrix gives them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { InviteResponse } from '@callstack/protocol';
import { eventually, launchBrowser, openPage, signIn, submitSignIn } from '../lib/browser.ts';
import { rateCalls } from '../../edge/src/db/billing.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { api, createTenant, expireInvite, login, waitForMail } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

let browser: Browser;
const contexts: BrowserContext[] = [];
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
});

async function open(path: string): Promise<Page> {
  const { context, page } = await openPage(browser, path);
  contexts.push(context);
  return page;
}

const userRow = (page: Page, email: string) => page.locator(`[data-testid=admin-user][data-email="${email}"]`);
const auditRows = (page: Page) => page.locator('[data-testid=audit-row]');

/** Every audit row shown has `attribute` = `value` (and there is at least one). */
async function allRows(page: Page, attribute: string, value: string): Promise<boolean> {
  const values = await auditRows(page).evaluateAll((rows, name) => rows.map((row) => row.getAttribute(name)), attribute);
  return values.length > 0 && values.every((found) => found === value);
}

async function confirmIn(row: Locator): Promise<void> {
  await row.locator('[data-testid=confirm]').click();
}

describe('organisation admin console', () => {
  test('sign up, invite and join, change a role, an API key shown once until revoked, deactivate, audit log', async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const owner = { name: `Olivia ${suffix}`, email: `olivia-${suffix}@admin-e2e.test`, password: `olivia-password-${suffix}` };
    const colleague = { name: `Colin ${suffix}`, email: `colin-${suffix}@admin-e2e.test`, password: `colin-password-${suffix}` };

    // Sign up from the sign-in screen.
    const admin = await open('/');
    await admin.locator('[data-testid=signup-link]').click();
    await admin.fill('#signup-organisation', `Acme ${suffix}`);
    await admin.fill('#signup-name', owner.name);
    await admin.fill('#signup-email', owner.email);
    await admin.fill('#signup-password', 'short');
    await admin.locator('form[data-testid=signup-form] [type=submit]').click();
    await admin.locator('[data-testid=signup-error]').filter({ hasText: 'at least 10 characters' }).waitFor();
    await admin.fill('#signup-password', owner.password);
    await admin.locator('form[data-testid=signup-form] [type=submit]').click();
    await admin.locator('[data-testid=signup-sent]').filter({ hasText: owner.email }).waitFor();
    // The organisation exists once the mailed link is opened.
    const [mail] = await waitForMail(owner.email);
    const signupLink = /http\S+\/signup#\S+/.exec(mail!.text)?.[0];
    assert.ok(signupLink?.startsWith(`${stack.url}/signup#`), mail!.text);
    await admin.goto(signupLink!);
    await admin.locator('[data-testid=me]').filter({ hasText: owner.name }).waitFor();

    // The console offers an admin no way to demote or deactivate themself (the edge refuses it too).
    await admin.locator('[data-testid=nav-admin]').click();
    const ownerRow = userRow(admin, owner.email);
    await ownerRow.waitFor();
    assert.equal(await ownerRow.getAttribute('data-role'), 'admin');
    assert.equal(await ownerRow.locator('[data-testid=role-select], [data-testid=deactivate]').count(), 0);
    assert.equal(await ownerRow.locator('[data-testid=self-role]').textContent(), 'Admin');
    assert.match((await ownerRow.textContent()) ?? '', /\(you\)/);

    // Invite a colleague; they open the link in their own browser and join.
    await admin.fill('#new-invite-email', colleague.email);
    await admin.selectOption('#new-invite-role', 'user');
    await admin.locator('form[data-testid=invite-form] [type=submit]').click();
    const link = await admin.locator('[data-testid=invite-link]').inputValue();
    assert.ok(link.startsWith(`${stack.url}/invite#`), link);

    const invitee = await open(link);
    await invitee.fill('#invite-name', colleague.name);
    await invitee.fill('#invite-password', colleague.password);
    await invitee.locator('form[data-testid=invite-form] [type=submit]').click();
    await invitee.locator('[data-testid=me]').filter({ hasText: colleague.name }).waitFor();
    assert.equal(new URL(invitee.url()).pathname, '/');
    assert.equal(await invitee.locator('[data-testid=nav-admin]').count(), 0, 'a user has no console');

    // The admin sees them and makes them an operator.
    const colleagueRow = userRow(admin, colleague.email);
    await eventually('the colleague in the users list', async () => {
      if ((await colleagueRow.count()) > 0) return true;
      await admin.locator('[data-testid=users-refresh]:not([disabled])').click();
      return false;
    });
    const colleagueId = (await colleagueRow.getAttribute('data-user-id'))!;
    assert.equal(await colleagueRow.getAttribute('data-role'), 'user');
    await colleagueRow.locator('[data-testid=role-select]').selectOption('operator');
    await confirmIn(colleagueRow);
    await admin.locator(`[data-testid=admin-user][data-email="${colleague.email}"][data-role=operator]`).waitFor();

    // An API key: its secret is shown once, works as a bearer credential, and stops when revoked.
    await admin.locator('[data-testid=admin-tab-api-keys]').click();
    await admin.fill('#new-key-name', 'E2E key');
    await admin.selectOption('#new-key-role', 'user');
    await admin.locator('form[data-testid=api-key-form] [type=submit]').click();
    const secret = await admin.locator('[data-testid=api-key-secret]').inputValue();
    assert.match(secret, /^csk_[A-Za-z0-9]{8}_/);
    const me = await api<{ actorType: string; displayName: string; role: string }>('GET', '/api/me', { auth: secret });
    assert.equal(me.status, 200);
    assert.deepEqual([me.body.actorType, me.body.displayName, me.body.role], ['api_key', 'E2E key', 'user']);
    await admin.locator('[data-testid=api-key-done]').click();
    await admin.locator('[data-testid=api-key-secret]').waitFor({ state: 'detached' });
    assert.equal(await admin.getByText(secret).count(), 0, 'the secret is not shown again');
    const keyRow = admin.locator('[data-testid=api-key][data-name="E2E key"]');
    assert.equal(await keyRow.getAttribute('data-prefix'), secret.split('_')[1]);
    await keyRow.locator('[data-testid=revoke]').click();
    await confirmIn(keyRow);
    await admin.locator('[data-testid=api-key][data-name="E2E key"][data-revoked=true]').waitFor();
    assert.equal((await api('GET', '/api/me', { auth: secret })).status, 401);

    // Deactivate the colleague: signing in again fails.
    await admin.locator('[data-testid=admin-tab-users]').click();
    await colleagueRow.locator('[data-testid=deactivate]').click();
    await confirmIn(colleagueRow);
    await admin.locator(`[data-testid=admin-user][data-email="${colleague.email}"][data-active=false]`).waitFor();
    const again = await open('/');
    await submitSignIn(again, colleague.email, colleague.password);
    await again.locator('[data-testid=login-error]').filter({ hasText: 'Wrong email or password' }).waitFor();

    // The audit log lists every step, and the filters narrow it.
    await admin.locator('[data-testid=admin-tab-audit]').click();
    for (const action of [
      'tenant.created',
      'invite.created',
      'invite.accepted',
      'user.role_changed',
      'api_key.created',
      'api_key.used',
      'api_key.revoked',
      'user.deactivated',
    ]) {
      await admin.locator(`[data-testid=audit-row][data-action="${action}"]`).first().waitFor();
    }
    const roleChange = admin.locator('[data-testid=audit-row][data-action="user.role_changed"]');
    assert.match((await roleChange.textContent()) ?? '', new RegExp(`${owner.name}.*Role changed.*${colleague.name}.*from user to operator`));

    await admin.selectOption('[data-testid=audit-action]', 'user.role_changed');
    await eventually('only role changes listed', () => allRows(admin, 'data-action', 'user.role_changed'));
    assert.equal(await auditRows(admin).count(), 1);

    await admin.locator('[data-testid=audit-clear]').click();
    await admin.selectOption('[data-testid=audit-actor]', colleagueId);
    await eventually("only the colleague's own actions listed", () => allRows(admin, 'data-actor-id', colleagueId));
    assert.deepEqual(await auditRows(admin).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action'))), ['invite.accepted']);

    await admin.selectOption('[data-testid=audit-action]', 'api_key.revoked');
    await admin.locator('[data-testid=audit-empty]').waitFor();
  });

  test('a used, expired or incomplete invite link says so instead of asking for details again', async () => {
    const tenant = await createTenant();
    const { accessToken } = await login(tenant.users.alice);
    const invite = async () =>
      (await api<InviteResponse>('POST', '/api/invites', { auth: accessToken, body: { email: `${crypto.randomUUID()}@invite-e2e.test`, role: 'user' } })).body;
    const used = await invite();
    const accepted = await api('POST', '/api/invites/accept', { body: { token: used.token, displayName: 'First', password: 'first-password' } });
    assert.equal(accepted.status, 201);
    const expired = await invite();
    await expireInvite(expired.id);

    for (const [url, expected] of [
      [used.url, /already been used/],
      [expired.url, /expired/],
    ] as const) {
      const page = await open(url);
      await page.fill('#invite-name', 'Second');
      await page.fill('#invite-password', 'second-password');
      await page.locator('form[data-testid=invite-form] [type=submit]').click();
      const error = page.locator('[data-testid=invite-unusable]');
      await error.waitFor();
      assert.match((await error.textContent()) ?? '', expected);
      assert.equal(await page.locator('#invite-password').count(), 0, 'the form is gone');
    }

    const incomplete = await open('/invite');
    assert.equal(await incomplete.locator('[data-testid=invite-unusable]').getAttribute('data-code'), 'incomplete');
  });

  test('an operator sees the users and the audit log read-only; a user sees no console', async () => {
    const tenant = await createTenant();
    const operator = await signIn(browser, tenant.users.carol);
    contexts.push(operator.context);
    await operator.page.locator('[data-testid=nav-admin]').click();
    await userRow(operator.page, tenant.users.bob.email).waitFor();
    assert.equal(await operator.page.locator('[data-testid=role-select], [data-testid=deactivate], [data-testid=invite-form]').count(), 0);
    assert.equal(await operator.page.locator('[data-testid=admin-tab-api-keys]').count(), 0);
    await operator.page.locator('[data-testid=admin-tab-audit]').click();
    await operator.page.locator('[data-testid=audit-table], [data-testid=audit-empty]').first().waitFor();

    const user = await signIn(browser, tenant.users.bob);
    contexts.push(user.context);
    assert.equal(await user.page.locator('[data-testid=nav-admin]').count(), 0);
    await user.page.goto(`${stack.url}/admin`);
    await user.page.locator('[data-testid=me]').waitFor();
    assert.equal(await user.page.locator('[data-testid=admin-console]').count(), 0);
  });

  test('numbers, ring groups and the calling policy: the admin adds a number for bob, moves it, makes a ring group and routes the number to it, opens a country with the policy form (which refuses a wrong value); an operator only reads', async () => {
    const tenant = await createTenant();
    const admin = await signIn(browser, tenant.users.alice);
    contexts.push(admin.context);
    await admin.page.locator('[data-testid=nav-admin]').click();
    await admin.page.locator('[data-testid=admin-tab-numbers]').click();

    // A number as the carrier gives it, read in the policy's country (the default, the US).
    const local = String(Math.floor(Math.random() * 10_000)).padStart(4, '0');
    await admin.page.fill('#new-number', `+44 20 7946 ${local}`);
    await admin.page.fill('#new-number-label', 'Sales');
    await admin.page.selectOption('#new-number-route', `user:${tenant.users.bob.id}`);
    await admin.page.locator('[data-testid=number-form] [type=submit]').click();
    const row = admin.page.locator(`[data-testid=phone-number][data-number="+44207946${local}"]`);
    await row.waitFor();
    assert.equal(await row.locator('select').inputValue(), `user:${tenant.users.bob.id}`);
    await row.locator('select').selectOption(`user:${tenant.users.carol.id}`);
    await eventually('the number moved to carol', async () => {
      const numbers = await api<{ numbers: { number: string; route: { userId?: string } }[] }>('GET', '/api/admin/numbers', {
        auth: (await login(tenant.users.alice)).accessToken,
      });
      return numbers.body.numbers.some((number) => number.route.userId === tenant.users.carol.id);
    });
    // A ring group of bob and carol, one after another; the number rings it.
    await admin.page.fill('#ring-group-name', 'Support');
    await admin.page.selectOption('#ring-group-strategy', 'in-order');
    await admin.page.fill('#ring-group-timeout', '15');
    for (const user of [tenant.users.bob, tenant.users.carol]) await admin.page.locator(`[data-testid=ring-group-member][value="${user.id}"]`).check();
    await admin.page.locator('[data-testid=ring-group-form] [type=submit]').click();
    const group = admin.page.locator('[data-testid=ring-group]').filter({ hasText: 'Support' });
    await group.waitFor();
    assert.match((await group.textContent()) ?? '', /One after another · 15 s each · Bob.*, Carol/);
    const groupId = (await group.getAttribute('data-group-id'))!;
    await row.locator('select').selectOption(`group:${groupId}`);
    await eventually('the number rings the group', async () => {
      const numbers = await api<{ numbers: { route: { groupId?: string } }[] }>('GET', '/api/admin/numbers', {
        auth: (await login(tenant.users.alice)).accessToken,
      });
      return numbers.body.numbers.some((number) => number.route.groupId === groupId);
    });
    // Rung by a number, the group stays: the edge says why.
    await group.locator('[data-testid=ring-group-delete]').click();
    await admin.page
      .locator('[data-testid=ring-groups] [role=alert]')
      .filter({ hasText: /route it elsewhere first/ })
      .waitFor();
    // A group of nobody is refused before it is sent.
    await admin.page.fill('#ring-group-name', 'Empty');
    await admin.page.locator('[data-testid=ring-group-form] [type=submit]').click();
    await admin.page.locator('[data-testid=ring-group-error]').waitFor();

    // The same number again is refused, with the reason.
    await admin.page.fill('#new-number', `+44 20 7946 ${local}`);
    await admin.page.locator('[data-testid=number-form] [type=submit]').click();
    await admin.page.locator('[data-testid=number-error]').waitFor();

    await admin.page.fill('#policy-internationalCountries', 'gb, fr');
    await admin.page.fill('#policy-maxCallDurationMinutes', '0');
    await admin.page.locator('[data-testid=policy-form] [type=submit]').click();
    assert.match((await admin.page.locator('[data-testid=policy-error]').textContent()) ?? '', /Longest call/);
    await admin.page.fill('#policy-maxCallDurationMinutes', '30');
    await admin.page.locator('[data-testid=policy-form] [type=submit]').click();
    await admin.page.locator('[data-testid=policy-saved]').waitFor();
    const saved = await api<{ internationalCountries: string[]; maxCallDurationSeconds: number }>('GET', '/api/admin/pstn/policy', {
      auth: (await login(tenant.users.alice)).accessToken,
    });
    assert.deepEqual([saved.body.internationalCountries, saved.body.maxCallDurationSeconds], [['FR', 'GB'], 1800]);

    const operator = await signIn(browser, tenant.users.carol);
    contexts.push(operator.context);
    await operator.page.goto(`${stack.url}/admin/numbers`);
    await operator.page.locator(`[data-testid=phone-number][data-number="+44207946${local}"]`).waitFor();
    assert.equal(
      await operator.page
        .locator(
          '[data-testid=number-form], [data-testid=number-delete], [data-testid=policy-form] [type=submit], [data-testid=ring-group-form], [data-testid=ring-group-delete]',
        )
        .count(),
      0,
    );
    assert.equal(await operator.page.locator('[data-testid=phone-number] select:enabled').count(), 0);
  });

  test('billing: the admin sees what calls to the outside cost against the limits and by destination, and changes a limit (a wrong value is refused); an operator only reads', async () => {
    const tenant = await createTenant();
    // A two-minute call of bob's to a London number, ended and charged as the edge does it.
    const callId = crypto.randomUUID();
    await withClient(stack.database, async (client) => {
      const answeredAt = new Date(Date.now() - 130_000);
      await client.query(
        `insert into pstn_call_records (call_id, tenant_id, user_id, direction, destination, created_at, answered_at, ended_at, duration_ms, final_status)
         values ($1, $2, $3, 'outbound', '+442079460958', $4, $4, $5, 120000, 200)`,
        [callId, tenant.id, tenant.users.bob.id, answeredAt, new Date(answeredAt.getTime() + 120_000)],
      );
      await rateCalls(client, [callId]);
      // Its billing period began ten days ago or more (the anchor day then), so it can be closed now whatever the day of the month.
      const anchor = Math.min(28, new Date(Date.now() - 10 * 86_400_000).getUTCDate());
      await client.query(
        `insert into tenant_billing (tenant_id, plan_id, daily_cap_micros, monthly_cap_micros, anchor_day) values ($1, 'standard', 100000000, 1000000000, $2)`,
        [tenant.id, anchor],
      );
    });
    const admin = await signIn(browser, tenant.users.alice);
    contexts.push(admin.context);
    await admin.page.locator('[data-testid=nav-admin]').click();
    await admin.page.locator('[data-testid=admin-tab-billing]').click();
    await eventually('the spend of today', async () =>
      /Today: \$0\.05 of \$100\.00/.test((await admin.page.locator('[data-testid=spent-today]').textContent()) ?? ''),
    );
    const row = admin.page.locator('[data-testid=usage-row]');
    await row.first().waitFor();
    assert.deepEqual(await row.locator('td').allTextContents(), ['United Kingdom', '1', '2 min', '$0.05']);
    await admin.page.locator('[data-testid=usage-grouping]').selectOption('user');
    await eventually('usage by person', async () => (await row.locator('td').first().textContent()) === tenant.users.bob.displayName);

    await admin.page.fill('#limits-dailyCap', 'fifty');
    await admin.page.locator('[data-testid=limits-form] [type=submit]').click();
    assert.match((await admin.page.locator('[data-testid=limits-error]').textContent()) ?? '', /Daily limit/);
    await admin.page.fill('#limits-dailyCap', '50');
    await admin.page.fill('#limits-monthlyCap', '');
    await admin.page.locator('[data-testid=limits-form] [type=submit]').click();
    await admin.page.locator('[data-testid=limits-saved]').waitFor();
    await eventually('the period without a limit', async () => /no limit/.test((await admin.page.locator('[data-testid=spent-period]').textContent()) ?? ''));
    const saved = await api<{ limits: { dailyCap: string | null; monthlyCap: string | null } }>('GET', '/api/admin/billing', {
      auth: (await login(tenant.users.alice)).accessToken,
    });
    assert.deepEqual(saved.body.limits, { dailyCap: '50', monthlyCap: null });

    // Closing the period invoices it: the seats so far and bob's call.
    await admin.page.locator('[data-testid=close-period]').click();
    const invoice = admin.page.locator('[data-testid=invoice][data-number="1"]');
    await invoice.locator('summary').click();
    const lines = invoice.locator('[data-testid=invoice-lines] tbody tr');
    await eventually('the invoice lines', async () => (await lines.count()) > 0);
    assert.ok(
      (await lines.allTextContents()).some((line) => line.includes(`${tenant.users.bob.displayName}: calls to United Kingdom`) && line.includes('$0.05')),
      JSON.stringify(await lines.allTextContents()),
    );

    const operator = await signIn(browser, tenant.users.carol);
    contexts.push(operator.context);
    await operator.page.goto(`${stack.url}/admin/billing`);
    await operator.page.locator('[data-testid=billing-standing]').waitFor();
    assert.equal(await operator.page.locator('[data-testid=limits-form] [type=submit]').count(), 0);
    assert.equal(await operator.page.locator('#limits-dailyCap:enabled').count(), 0);
  });
});
