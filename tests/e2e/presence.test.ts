/**
 * Live presence in real Chromium: bob's softphone shows alice's status as she signs in, takes a
 * call, steps away, goes idle and leaves. The stack runs with PRESENCE_OFFLINE_GRACE_SECONDS=2.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call, openTab, signIn, type Softphone, useBrowser, waitForPresence, waitForState } from '../lib/browser.ts';
import { createTenant, type TestUser } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

const chromium = useBrowser();
const { phones } = chromium;

async function open(user: TestUser, options: Parameters<typeof signIn>[2] = {}): Promise<Softphone> {
  const phone = await signIn(chromium.browser, user, options);
  phones.push(phone);
  return phone;
}

const graceMs = () => Number(stack.edgeVars.PRESENCE_OFFLINE_GRACE_SECONDS) * 1000;

async function chooseStatus(phone: Softphone, status: 'online' | 'away' | 'dnd'): Promise<void> {
  await phone.page.locator('select[data-testid=presence-select]:enabled').selectOption(status);
}

describe('presence in the softphone', () => {
  test('bob watches alice go online, busy during a call, away, and offline, live', async () => {
    const { alice, bob, carol } = (await createTenant()).users;
    const bobPhone = await open(bob);
    await waitForPresence(bobPhone.page, alice, 'offline');
    await bobPhone.page.locator('[data-testid=my-presence][data-status=online]').waitFor();

    // Alice in bob's contacts too, so both lists are watched.
    await bobPhone.page.locator('#new-contact-user').selectOption(alice.id);
    await bobPhone.page.locator('form[data-testid=contact-form] [type=submit]').click();
    await waitForPresence(bobPhone.page, alice, 'offline', 'contacts');

    const alicePhone = await open(alice);
    await waitForPresence(bobPhone.page, alice, 'online');
    await waitForPresence(bobPhone.page, alice, 'online', 'contacts');

    // Carol calls alice: busy from the first ring, through the call, online after the hang-up.
    const carolPhone = await open(carol);
    await call(carolPhone, alice);
    await waitForState(alicePhone, 'incoming');
    await waitForPresence(bobPhone.page, alice, 'busy');
    await alicePhone.page.locator('[data-testid=accept]').click();
    await waitForState(alicePhone, 'active');
    await waitForPresence(bobPhone.page, alice, 'busy', 'contacts');
    await waitForPresence(bobPhone.page, carol, 'busy');
    await alicePhone.page.locator('[data-testid=my-presence][data-status=busy]').waitFor();
    await carolPhone.page.locator('[data-testid=hangup]').click();
    await waitForPresence(bobPhone.page, alice, 'online');
    await waitForPresence(bobPhone.page, carol, 'online');

    await chooseStatus(alicePhone, 'away');
    await waitForPresence(bobPhone.page, alice, 'away');
    await waitForPresence(bobPhone.page, alice, 'away', 'contacts');
    await alicePhone.page.locator('[data-testid=my-presence][data-status=away]').waitFor();
    await chooseStatus(alicePhone, 'dnd');
    await waitForPresence(bobPhone.page, alice, 'dnd');
    await chooseStatus(alicePhone, 'online');
    await waitForPresence(bobPhone.page, alice, 'online');

    await alicePhone.page.getByRole('button', { name: 'Sign out' }).click();
    await alicePhone.page.locator('form[data-testid=login-form]').waitFor();
    await waitForPresence(bobPhone.page, alice, 'offline');
    await waitForPresence(bobPhone.page, alice, 'offline', 'contacts');
  });

  test('alice goes away when idle, comes back on input, and is offline once her page closes', async () => {
    const { alice, bob } = (await createTenant()).users;
    const bobPhone = await open(bob);
    const alicePhone = await open(alice, { idleAfterMs: 1500 });
    // No input on alice's page: within moments she is idle, and with one device that means away.
    await waitForPresence(bobPhone.page, alice, 'away');
    await alicePhone.page.locator('[data-testid=my-presence][data-status=away]').waitFor();
    // Her choice stays Available: idle is not a choice.
    assert.equal(await alicePhone.page.locator('select[data-testid=presence-select]').inputValue(), 'online');

    await alicePhone.page.mouse.move(200, 200);
    await alicePhone.page.mouse.move(240, 260);
    await waitForPresence(bobPhone.page, alice, 'online');

    await alicePhone.context.close();
    phones.splice(phones.indexOf(alicePhone), 1);
    await waitForPresence(bobPhone.page, alice, 'offline');
  });

  test('alice on two devices stays online when one closes, and is offline when both have', async () => {
    const { alice, bob } = (await createTenant()).users;
    const bobPhone = await open(bob);
    const alicePhone = await open(alice);
    const secondTab = await openTab(alicePhone);
    await waitForPresence(bobPhone.page, alice, 'online');

    await alicePhone.page.close();
    // Past the grace period a lone device would be offline; the other tab keeps her online.
    await new Promise((resolve) => setTimeout(resolve, graceMs() * 2 + 1000));
    await waitForPresence(bobPhone.page, alice, 'online', 'directory', 1000);

    await secondTab.close();
    await waitForPresence(bobPhone.page, alice, 'offline');
  });
});
