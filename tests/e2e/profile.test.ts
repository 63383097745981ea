/**
 * The account screens in real Chromium: changing and resetting a password (the reset link read
 * from the mail sink), SIP credentials, the address book, signing out everywhere, data export and
 * erasure.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage, signedIn, signIn, submitSignIn, waitForPresence, waitForState, type Softphone } from '../lib/browser.ts';
import { api, createTenant, login, waitForMail } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

let browser: Browser;
const contexts: { close(): Promise<void> }[] = [];
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
});

async function open(...args: Parameters<typeof signIn>): Promise<Softphone> {
  const phone = await signIn(...args);
  contexts.push(phone.context);
  return phone;
}

async function openProfile(page: Page): Promise<void> {
  await page.locator('[data-testid=me]').click();
  await page.locator('[data-testid=profile]').waitFor();
}

async function signInFails(email: string, password: string): Promise<void> {
  const { context, page } = await openPage(browser);
  contexts.push(context);
  await submitSignIn(page, email, password);
  await page.locator('[data-testid=login-error]').waitFor();
}

describe('profile and account', () => {
  test('the sign-in lives in an HttpOnly cookie the page cannot read, a reload resumes it, and sockets carry single-use tickets', async () => {
    const { bob } = (await createTenant()).users;
    const phone = await open(browser, bob);
    const refreshCookie = async () => (await phone.context.cookies()).find((cookie) => cookie.name === 'callstack_refresh');
    const cookie = await refreshCookie();
    assert.ok(cookie, 'the session cookie is set');
    assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, 'Strict', '/api/auth']);
    const seen = await phone.page.evaluate(() => ({ cookie: document.cookie, stored: JSON.stringify({ ...localStorage, ...sessionStorage }) }));
    assert.doesNotMatch(seen.cookie, /callstack_refresh/);
    assert.ok(!seen.stored.includes(cookie.value), 'no refresh token in web storage');

    const sockets: string[] = [];
    phone.page.on('websocket', (socket) => sockets.push(socket.url()));
    await phone.page.reload();
    await signedIn(phone.page, bob);
    for (let tries = 0; tries < 100 && sockets.length < 2; tries++) await phone.page.waitForTimeout(100);
    assert.deepEqual(sockets.map((url) => new URL(url).pathname).sort(), ['/api/presence', '/api/signaling']);
    for (const url of sockets) assert.deepEqual([...new URL(url).searchParams.keys()].sort(), ['device', 'ticket']);
    // The reload spent the cookie's token for a new one (rotation).
    assert.notEqual((await refreshCookie())?.value, cookie.value);
  });

  test('changing the password keeps this device signed in; the new password signs in, the old one not', async () => {
    const { alice } = (await createTenant()).users;
    const phone = await open(browser, alice);
    await openProfile(phone.page);
    assert.equal(await phone.page.locator('[data-testid=profile-email]').textContent(), alice.email);
    assert.equal(await phone.page.locator('[data-testid=profile-role]').textContent(), 'Admin');

    const newPassword = `${alice.password}-changed`;
    await phone.page.fill('#current-password', 'not my password');
    await phone.page.fill('#new-password', newPassword);
    await phone.page.locator('form[data-testid=password-form] [type=submit]').click();
    await phone.page.locator('[data-testid=password-error]').waitFor();

    await phone.page.fill('#current-password', alice.password);
    await phone.page.locator('form[data-testid=password-form] [type=submit]').click();
    await phone.page.locator('[data-testid=password-changed]').waitFor();
    // The session the edge returned was kept: a reload resumes it.
    await phone.page.reload();
    await signedIn(phone.page, alice);

    await signInFails(alice.email, alice.password);
    await open(browser, { ...alice, password: newPassword });
  });

  test('forgot password: the mailed link sets a new password once, then signs in', async () => {
    const { bob } = (await createTenant()).users;
    const { context, page } = await openPage(browser);
    contexts.push(context);
    await page.locator('a[data-testid=forgot-link]').click();
    await page.fill('#forgot-email', bob.email);
    await page.locator('form[data-testid=forgot-form] [type=submit]').click();
    await page.locator('[data-testid=reset-requested]').waitFor();

    const [mail] = await waitForMail(bob.email);
    const link = /https?:\/\/\S+\/reset#\S+/.exec(mail!.text)?.[0];
    assert.ok(link, `a reset link in: ${mail!.text}`);
    const { hash } = new URL(link);
    await page.goto(new URL(`/reset${hash}`, stack.url).toString());
    const newPassword = `${bob.password}-reset`;
    await page.fill('#reset-password', newPassword);
    await page.locator('form[data-testid=reset-form] [type=submit]').click();
    await page.locator('form[data-testid=login-form]').waitFor();
    await submitSignIn(page, bob.email, newPassword);
    await signedIn(page, bob);

    // The link worked once.
    const again = await openPage(browser, `/reset${hash}`);
    contexts.push(again.context);
    await again.page.fill('#reset-password', `${bob.password}-again`);
    await again.page.locator('form[data-testid=reset-form] [type=submit]').click();
    const unusable = again.page.locator('[data-testid=reset-unusable]');
    await unusable.waitFor();
    assert.equal(await unusable.getAttribute('data-code'), 'invalid_state');
    assert.match((await unusable.textContent()) ?? '', /invalid, used or expired/);

    const cut = await openPage(browser, '/reset#abc');
    contexts.push(cut.context);
    assert.equal(await cut.page.locator('[data-testid=reset-unusable]').getAttribute('data-code'), 'incomplete');
  });

  test('a new SIP password is shown once', async () => {
    const { carol } = (await createTenant()).users;
    const phone = await open(browser, carol);
    await openProfile(phone.page);
    const username = (await phone.page.locator('[data-testid=sip-username]').textContent()) ?? '';
    assert.ok(username, 'the SIP username is shown');
    assert.ok(await phone.page.locator('[data-testid=sip-realm]').textContent());
    assert.equal(await phone.page.locator('[data-testid=sip-password]').count(), 0);

    await phone.page.locator('[data-testid=sip-rotate]').click();
    const password = await phone.page.locator('input[data-testid=sip-password]').inputValue();
    assert.ok(password.length >= 16, 'a long random password');
    assert.equal(await phone.page.locator('[data-testid=sip-username]').textContent(), username, 'the username stays');

    await phone.page.locator('[data-testid=sip-done]').click();
    assert.equal(await phone.page.locator('[data-testid=sip-password]').count(), 0);
    await phone.page.reload();
    await phone.page.locator('[data-testid=sip-username]').waitFor();
    assert.equal(await phone.page.locator('[data-testid=sip-password]').count(), 0, 'never shown again');
  });

  test('caller ID: the number my outside calls show, withheld at my choice and kept across a reload', async () => {
    const tenant = await createTenant();
    const admin = (await login(tenant.users.alice)).accessToken;
    const number = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    assert.equal(
      (await api('POST', '/api/admin/numbers', { auth: admin, body: { number, route: { kind: 'user', userId: tenant.users.carol.id } } })).status,
      201,
    );
    const phone = await open(browser, tenant.users.carol);
    await openProfile(phone.page);
    const shown = phone.page.locator('[data-testid=caller-id-number]');
    await shown.filter({ hasText: number }).waitFor();
    await phone.page.locator('[data-testid=caller-id-withheld]').click();
    await shown.filter({ hasText: 'see no number' }).waitFor();
    assert.equal(await phone.page.locator('[data-testid=caller-id-withheld]').isChecked(), true);
    await phone.page.reload();
    await shown.filter({ hasText: 'see no number' }).waitFor();
    assert.equal(await phone.page.locator('[data-testid=caller-id-withheld]').isChecked(), true);
  });

  test('contacts: add a colleague and a number, search, favorite, rename, delete, and call the colleague', async () => {
    const { alice, bob } = (await createTenant()).users;
    const bobPhone = await open(browser, bob);
    const page = bobPhone.page;
    const rows = page.locator('[data-testid=contact]');
    const row = (name: string) => page.locator(`[data-testid=contact][data-name="${name}"]`);
    const submit = () => page.locator('form[data-testid=contact-form] [type=submit]').click();

    await page.locator('#new-contact-user').selectOption(alice.id);
    await submit();
    await row(alice.displayName).waitFor();

    await page.locator('[data-testid=new-contact-external]').check();
    await page.fill('#new-contact-phone', '020 7946 0958');
    await page.fill('#new-contact-name', 'Plumber');
    await submit();
    assert.match((await page.locator('[data-testid=contact-form-error]').textContent()) ?? '', /international number/);
    await page.fill('#new-contact-phone', '+44 20 7946 0958');
    await submit();
    await row('Plumber').waitFor();
    assert.match((await row('Plumber').textContent()) ?? '', /\+442079460958/);
    const pstnCall = row('Plumber').locator('[data-testid=contact-call]');
    // A number is called through the carrier trunks (tests/sip/pstn.test.ts places such a call).
    assert.equal(await pstnCall.isDisabled(), false);

    await page.fill('#contacts-search', 'plumb');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact]').length === 1);
    await row('Plumber').waitFor();
    await page.fill('#contacts-search', '');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact]').length === 2);

    // Favorites come first ("Alice…" sorts before "Plumber" anyway, so favor the plumber).
    await row('Plumber').locator('[data-testid=contact-favorite]').click();
    await page.locator('[data-testid=contact][data-name=Plumber][data-favorite=true]').waitFor();
    assert.equal(await rows.first().getAttribute('data-name'), 'Plumber');
    await page.locator('[data-testid=contacts-favorites]').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact]').length === 1);
    await page.locator('[data-testid=contacts-favorites]').uncheck();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=contact]').length === 2);

    await row('Plumber').locator('[data-testid=contact-rename]').click();
    await page.locator('input[data-testid=contact-name-input]').fill('Plumber Joe');
    await page.locator('[data-testid=contact-save]').click();
    await row('Plumber Joe').waitFor();
    await row('Plumber Joe').locator('[data-testid=contact-delete]').click();
    await row('Plumber Joe').locator('[data-testid=confirm]').click();
    await row('Plumber Joe').waitFor({ state: 'detached' });

    const alicePhone = await open(browser, alice);
    // Ring only once alice's softphone is connected, or the call ends `unavailable` at once.
    await waitForPresence(page, alice, 'online', 'contacts');
    await row(alice.displayName).locator('[data-testid=contact-call]:enabled').click();
    await waitForState(alicePhone, 'incoming');
    await alicePhone.page.locator('[data-testid=accept]').click();
    await waitForState(bobPhone, 'active');
    await waitForState(alicePhone, 'active');
    await page.locator('[data-testid=hangup]').click();
    await waitForState(alicePhone, 'ended');
  });

  test('sign out everywhere sends another signed-in browser of the same user back to sign-in', async () => {
    const { dave } = (await createTenant()).users;
    const laptop = await open(browser, dave);
    const desk = await open(browser, dave);
    await openProfile(laptop.page);
    await laptop.page.locator('[data-testid=logout-all]').click();
    await laptop.page.locator('[data-testid=confirm]').click();
    await laptop.page.locator('form[data-testid=login-form]').waitFor();
    await desk.page.locator('form[data-testid=login-form]').waitFor();
    await desk.page.reload();
    await desk.page.locator('form[data-testid=login-form]').waitFor();
  });

  test('download my data, then delete my account', async () => {
    const { dave } = (await createTenant()).users;
    const phone = await open(browser, dave);
    await openProfile(phone.page);
    const [download] = await Promise.all([phone.page.waitForEvent('download'), phone.page.locator('[data-testid=export-data]').click()]);
    assert.match(download.suggestedFilename(), /^callstack-export-.+\.json$/);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Record<string, unknown>;
    assert.match(JSON.stringify(exported), new RegExp(dave.email));

    await phone.page.locator('[data-testid=erase-account]').click();
    await phone.page.fill('#erase-password', 'wrong password');
    await phone.page.locator('[data-testid=erase-confirm]').click();
    await phone.page.locator('[data-testid=erase-error]').waitFor();
    await phone.page.fill('#erase-password', dave.password);
    await phone.page.locator('[data-testid=erase-confirm]').click();
    await phone.page.locator('form[data-testid=login-form]').waitFor();
    await signInFails(dave.email, dave.password);
  });
});
