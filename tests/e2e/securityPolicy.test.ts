/**
 * The strict Content-Security-Policy holds in real Chromium: a person signs in, makes a video call
 * and holds a meeting through the media fleet, and opens the admin console and recordings, with
 * no violation reported and every document served with the security headers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { call, signedIn, signIn, type Softphone, useBrowser, waitForState } from '../lib/browser.ts';
import { createTenant } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

const chromium = useBrowser();
const { phones } = chromium;

/** Violations the page reported (`securitypolicyviolation` events, collected from the first script on). */
async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? []);
}

async function watched(phone: Softphone): Promise<Softphone> {
  await phone.context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  // The init script runs from the next document on.
  await phone.page.reload({ waitUntil: 'domcontentloaded' });
  await signedIn(phone.page, phone.user);
  phones.push(phone);
  return phone;
}

describe('the content security policy in the browser', () => {
  test('a call, a meeting, the admin console and recordings run without a violation', async () => {
    const tenant = await createTenant();
    const alice = await watched(await signIn(chromium.browser, tenant.users.alice));
    const bob = await watched(await signIn(chromium.browser, tenant.users.bob));

    const document = await alice.page.request.get(stack.url);
    assert.match(document.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    assert.equal(document.headers()['x-content-type-options'], 'nosniff');

    await call(alice, tenant.users.bob);
    await bob.page.locator('[data-testid=accept]').click();
    await Promise.all([waitForState(alice, 'active'), waitForState(bob, 'active')]);
    await alice.page.locator('video[data-testid=remote-video]').waitFor();
    await alice.page.locator('[data-testid=hangup]').click();
    await waitForState(alice, 'ended');

    await alice.page.locator('[data-testid=nav-meetings]').click();
    await alice.page.locator('[data-testid=start-meeting]').click();
    await alice.page.locator('[data-testid=tile]').first().waitFor();
    await alice.page.locator('[data-testid=nav-admin]').click();
    await alice.page.locator('[data-testid=admin-user]').first().waitFor();
    await alice.page.locator('[data-testid=nav-recordings]').click();

    assert.deepEqual(await violations(alice.page), []);
    assert.deepEqual(await violations(bob.page), []);
  });
});
