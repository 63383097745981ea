/**
 * The softphone as a person sees it, at a laptop's 1280x800 and a phone's 390x844: each main view
 * is screenshotted (kept in the logs) and checked for the layout facts that matter (nothing
 * overflows sideways, the call controls are on screen without scrolling, a meeting of three
 * gives its stage at least 70% of the window), for one `h1` per page, and for zero axe-core
 * violations of WCAG 2.2 A/AA. The incoming call is announced where keyboard users and people in
 * another tab notice it: focus on Accept, the tab's title and icon.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { call, callState, signIn, useBrowser, waitForState, type Softphone } from '../lib/browser.ts';
import { createTenant, type TestUser } from '../lib/fixtures.ts';
import { useOwnMediaNode } from '../lib/mediaNodes.ts';
import { stack } from '../lib/stack.ts';

const chromium = useBrowser();
const { phones } = chromium;
// Earlier files stop their nodes (one is killed on purpose): this file's meetings get a node of their own.
useOwnMediaNode('layout-media', 43600);
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const SIZES = [
  { name: 'laptop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
type Size = (typeof SIZES)[number];

/** This test's softphones: closed when it ends, so a meeting's video does not slow the next test down. */
const opened: Softphone[] = [];
afterEach(async () => {
  const closing = opened.splice(0);
  for (const phone of closing) phones.splice(phones.indexOf(phone), 1);
  await Promise.all(closing.map((phone) => phone.context.close()));
});

async function open(user: TestUser, size: Size): Promise<Softphone> {
  const phone = await signIn(chromium.browser, user);
  phones.push(phone);
  opened.push(phone);
  await phone.page.setViewportSize({ width: size.width, height: size.height });
  return phone;
}

/** axe-core's WCAG 2.2 A/AA violations on the page as it is, one line each (rule: elements). */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the debugger protocol, which the page's CSP does not govern (a script tag would be refused).
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const { axe } = window as unknown as {
      axe: { run: (context: Document, options: object) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> };
    };
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return result.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  });
}

/** The checks every main view passes, and its screenshot in the logs. */
async function assertView(page: Page, view: string, size: Size): Promise<void> {
  const started = Date.now();
  await page.screenshot({ path: stack.tmp('logs', `layout-${view}-${size.name}.png`) });
  const shot = Date.now();
  const facts = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    width: innerWidth,
    headings: Array.from(document.querySelectorAll('h1'), (heading) => heading.textContent),
    title: document.title,
  }));
  assert.ok(facts.scrollWidth <= facts.width, `${view} at ${size.name}: the page is ${facts.scrollWidth} px wide in a ${facts.width} px window`);
  assert.equal(facts.headings.length, 1, `${view} at ${size.name}: one h1, found ${JSON.stringify(facts.headings)}`);
  assert.match(facts.title, /CallStack$/);
  const violations = await axeViolations(page);
  console.log(`${view} at ${size.name}: screenshot ${shot - started} ms, checks ${Date.now() - shot} ms`);
  assert.deepEqual(violations, [], `${view} at ${size.name}: axe-core violations`);
}

/** Whether the element lies wholly inside the window as it is scrolled now. */
async function onScreen(locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const viewport = locator.page().viewportSize()!;
  return box !== null && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;
}

for (const size of SIZES) {
  describe(`the softphone at ${size.width}x${size.height}`, () => {
    test('sign-in, phone page, incoming call, in call, a declined call and Call again', async () => {
      const signInPage = await chromium.browser.newContext({ viewport: { width: size.width, height: size.height } });
      const page = await signInPage.newPage();
      await page.goto(stack.url, { waitUntil: 'domcontentloaded' });
      await page.locator('form[data-testid=login-form]').waitFor();
      await assertView(page, 'sign-in', size);
      await signInPage.close();

      const tenant = await createTenant();
      const [alice, bob] = [await open(tenant.users.alice, size), await open(tenant.users.bob, size)];
      await alice.page.locator('[data-testid=call-history]').waitFor();
      await assertView(alice.page, 'phone', size);

      await call(alice, tenant.users.bob);
      const accept = bob.page.locator('[data-testid=accept]');
      await accept.waitFor();
      // Keyboard users are on Accept; another tab shows who calls, and the icon turns red.
      await bob.page.locator('[data-testid=accept]:focus').waitFor();
      assert.equal(await bob.page.title(), `Incoming call: ${tenant.users.alice.displayName} · CallStack`);
      assert.match((await bob.page.locator('link[rel=icon]').getAttribute('href')) ?? '', /^data:image\/svg\+xml/);
      assert.ok(await onScreen(accept), 'Accept is on screen');
      await assertView(bob.page, 'incoming', size);

      await bob.page.keyboard.press('Enter');
      await Promise.all([waitForState(alice, 'active'), waitForState(bob, 'active')]);
      assert.equal(await bob.page.title(), 'Phone · CallStack');
      await alice.page.evaluate(() => scrollTo(0, 0));
      for (const control of ['mute', 'hangup'])
        assert.ok(await onScreen(alice.page.locator(`[data-testid=${control}]`)), `${control} on screen without scrolling`);
      await alice.page.locator('[data-testid=mute]').click();
      await alice.page.locator('[data-testid=self-muted]').waitFor();
      assert.equal(await alice.page.locator('[data-testid=mute]').textContent(), 'Unmute');
      await assertView(alice.page, 'in-call', size);
      await alice.page.locator('[data-testid=hangup]').click();
      await waitForState(alice, 'ended');

      // Declined: the caller is told by whom and can call again; the one who declined is not told off.
      await alice.page.locator('[data-testid=dismiss-outcome]').click();
      await call(alice, tenant.users.bob);
      await bob.page.locator('[data-testid=reject]').click();
      const outcome = alice.page.locator('[data-testid=call-outcome]');
      await outcome.waitFor();
      assert.equal(await outcome.locator('.outcome-text').textContent(), `${tenant.users.bob.displayName} declined the call`);
      await waitForState(bob, 'ended');
      assert.equal(await bob.page.locator('[data-testid=call-outcome]').count(), 0);
      // It outlasts the ended state's few seconds.
      await waitForState(alice, 'idle');
      await outcome.waitFor();
      await alice.page.evaluate(() => scrollTo(0, 0));
      await assertView(alice.page, 'declined', size);
      await alice.page.locator('[data-testid=call-again]').click();
      await bob.page.locator('[data-testid=accept]').waitFor();
      assert.equal(await callState(alice).getAttribute('data-state'), 'ringing');
      await alice.page.locator('[data-testid=cancel]').click();
      await waitForState(bob, 'ended');
    });

    test('a meeting of three fills the window; a screen share keeps the people beside it', async () => {
      const tenant = await createTenant();
      const alice = await open(tenant.users.alice, size);
      await alice.page.locator('[data-testid=nav-meetings]').click();
      await assertView(alice.page, 'meetings', size);
      await alice.page.locator('[data-testid=start-meeting]').click();
      await alice.page.locator('[data-testid=room-waiting]').waitFor();
      const link = await alice.page.locator('[data-testid=room-link]').inputValue();
      const [bob, carol] = [await open(tenant.users.bob, size), await open(tenant.users.carol, size)];
      for (const person of [bob, carol]) await person.page.goto(link);
      await alice.page.locator('[data-testid=room-grid] [data-testid=tile]').nth(2).waitFor();
      await alice.page.locator('[data-testid=room-waiting]').waitFor({ state: 'detached' });
      assert.equal(await alice.page.locator('[data-testid=room-count]').textContent(), '3 in the meeting');

      const stage = (await alice.page.locator('[data-testid=room-stage]').boundingBox())!;
      const share = (stage.width * stage.height) / (size.width * size.height);
      console.log(
        `meeting of three at ${size.name}: the stage is ${Math.round(stage.width)}x${Math.round(stage.height)}, ${(share * 100).toFixed(0)}% of the window`,
      );
      if (size.name === 'laptop') assert.ok(share >= 0.7, `the stage uses ${(share * 100).toFixed(0)}% of the window`);
      for (const control of ['room-mic', 'room-leave']) assert.ok(await onScreen(alice.page.locator(`[data-testid=${control}]`)), `${control} on screen`);
      await assertView(alice.page, 'meeting', size);

      await bob.page.locator('[data-testid=room-share]').click();
      await bob.page.locator('[data-testid=presenting]').waitFor();
      const bobPeer = await bob.page.locator('[data-testid=room-view]').getAttribute('data-peer-id');
      await alice.page.locator(`.room-focus [data-testid=tile][data-peer-id="${bobPeer}"][data-source=screen]`).waitFor({ timeout: 15_000 });
      // Everyone's camera stays in the filmstrip, and on the laptop all three are in view at once.
      const strip = alice.page.locator('.room-strip [data-testid=tile][data-source=camera]');
      assert.equal(await strip.count(), 3);
      if (size.name === 'laptop') for (const tile of await strip.all()) assert.ok(await onScreen(tile), 'a camera tile beside the share is in view');
      await assertView(alice.page, 'screen-share', size);
      await assertView(bob.page, 'presenting', size);
      await bob.page.locator('[data-testid=room-share]').click();
    });

    test('profile, recordings and the admin console; a user opening /admin is told it is not theirs', async () => {
      const tenant = await createTenant();
      const alice = await open(tenant.users.alice, size);
      for (const [nav, view] of [
        ['me', 'profile'],
        ['nav-recordings', 'recordings'],
        ['nav-admin', 'admin'],
      ] as const) {
        await alice.page.locator(`[data-testid=${nav}]`).click();
        await alice.page
          .locator(`h1:text-is("${{ profile: 'Profile', recordings: 'Recordings', admin: 'Admin console' }[view]}")`)
          .waitFor({ state: 'attached' });
        if (view === 'admin') await alice.page.locator('[data-testid=admin-user]').first().waitFor();
        await assertView(alice.page, view, size);
      }
      const bob = await open(tenant.users.bob, size);
      await bob.page.goto(new URL('/admin', stack.url).toString());
      await bob.page.locator('[data-testid=not-allowed]').waitFor();
      await assertView(bob.page, 'not-allowed', size);
      await bob.page.locator('[data-testid=back-to-phone]').click();
      await bob.page.locator('[data-testid=call-history]').waitFor();
    });
  });
}
