/**
 * Two people call each other in real Chromium through the real edge: audio and video flow both
 * ways, and every way a call ends shows up in the UI and as a CDR.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { call, callState, mediaStats, type MediaStats, signedIn, signIn, type Softphone, useBrowser, waitForState } from '../lib/browser.ts';
import { createTenant, waitForCallRecord, type TestTenant } from '../lib/fixtures.ts';
import { stack } from '../lib/stack.ts';

const chromium = useBrowser();
const { phones } = chromium;

async function pair(tenant: TestTenant, options: { forceRelay?: boolean } = {}): Promise<[Softphone, Softphone]> {
  const alice = await signIn(chromium.browser, tenant.users.alice, options);
  const bob = await signIn(chromium.browser, tenant.users.bob, options);
  phones.push(alice, bob);
  return [alice, bob];
}

async function close(...pair: Softphone[]): Promise<void> {
  for (const phone of pair) await phone.context.close();
  phones.splice(0, phones.length, ...phones.filter((phone) => !pair.includes(phone)));
}

const MIN_PACKETS = 50;
const enoughPackets = (stats: MediaStats) =>
  Math.min(stats.audioPacketsReceived, stats.videoPacketsReceived, stats.audioPacketsSent, stats.videoPacketsSent) >= MIN_PACKETS;

/** Stats once at least MIN_PACKETS have gone each way for audio and video (or after 15 s). */
async function flowingMedia(phone: Softphone): Promise<MediaStats> {
  let stats = await mediaStats(phone);
  const deadline = Date.now() + 15_000;
  while (!enoughPackets(stats) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    stats = await mediaStats(phone);
  }
  return stats;
}

function assertFlowing(stats: MediaStats, who: string): void {
  assert.ok(stats.audioPacketsReceived >= MIN_PACKETS, `${who} audio received: ${stats.audioPacketsReceived}`);
  assert.ok(stats.videoPacketsReceived >= MIN_PACKETS, `${who} video received: ${stats.videoPacketsReceived}`);
  assert.ok(stats.audioPacketsSent >= MIN_PACKETS && stats.videoPacketsSent >= MIN_PACKETS, `${who} sent: ${JSON.stringify(stats)}`);
  const lossRate = (stats.audioPacketsLost + stats.videoPacketsLost) / (stats.audioPacketsReceived + stats.videoPacketsReceived);
  assert.ok(lossRate < 0.02, `${who} loss rate ${lossRate}`);
}

/** Presses Tab until `selector` has the focus, as a keyboard user would; fails if it never does. */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let presses = 0; presses < 80; presses++) {
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${selector}`);
}

describe('1:1 calls in the softphone', () => {
  test('alice calls bob, bob accepts, audio and video flow both ways, hang-up leaves the CDR and history', async () => {
    const tenant = await createTenant();
    const [alice, bob] = await pair(tenant);

    await call(alice, tenant.users.bob);
    await bob.page.locator('[data-testid=incoming-call]').filter({ hasText: tenant.users.alice.displayName }).waitFor();
    await waitForState(alice, 'ringing');
    await bob.page.locator('[data-testid=accept]').click();
    await Promise.all([waitForState(alice, 'active'), waitForState(bob, 'active')]);
    const callId = await callState(alice).getAttribute('data-call-id');
    assert.ok(callId);
    await alice.page.locator('video[data-testid=remote-video]').waitFor();

    const [aliceStats, bobStats] = await Promise.all([flowingMedia(alice), flowingMedia(bob)]);
    assertFlowing(aliceStats, 'alice');
    assertFlowing(bobStats, 'bob');
    assert.match((await alice.page.locator('[data-testid=call-timer]').textContent()) ?? '', /^\d+:\d\d$/);

    await alice.page.locator('[data-testid=mute]').click();
    await alice.page.locator('[data-testid=mute][data-muted=true]').waitFor();
    assert.equal(await alice.page.locator('[data-testid=mute]').textContent(), 'Unmute');
    await alice.page.locator('[data-testid=self-muted]').waitFor();
    await bob.page.locator('[data-testid=peer-muted]').waitFor();
    await alice.page.locator('[data-testid=mute]').click();
    await bob.page.locator('[data-testid=peer-muted]').waitFor({ state: 'detached' });
    assert.equal(await alice.page.locator('[data-testid=self-muted]').count(), 0);

    // Letterboxed unless the person asks for the picture to fill the stage.
    const fit = () => alice.page.locator('video[data-testid=remote-video]').evaluate((video) => getComputedStyle(video).objectFit);
    assert.equal(await fit(), 'contain');
    await alice.page.locator('[data-testid=video-fill]').click();
    assert.equal(await fit(), 'cover');
    assert.equal(await alice.page.locator('[data-testid=video-fill]').getAttribute('aria-pressed'), 'true');

    await alice.page.locator('[data-testid=hangup]').click();
    await Promise.all([waitForState(alice, 'ended'), waitForState(bob, 'ended')]);
    assert.equal(await callState(bob).getAttribute('data-reason'), 'hangup');

    const cdr = await waitForCallRecord(callId);
    assert.equal(cdr.end_reason, 'hangup');
    assert.equal(cdr.caller_id, tenant.users.alice.id);
    assert.equal(cdr.callee_id, tenant.users.bob.id);
    assert.ok(cdr.duration_ms >= 1_000, `duration ${cdr.duration_ms}`);

    const row = bob.page.locator(`[data-testid=history-row][data-call-id="${callId}"]`);
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await row.getAttribute('data-reason'), 'hangup');
    assert.equal(Number(await row.getAttribute('data-duration-ms')), cdr.duration_ms);
    await close(alice, bob);
  });

  test('keyboard only: sign in, call, answer and hang up without a pointer', async () => {
    const tenant = await createTenant();
    const context = await chromium.browser.newContext({ viewport: { width: 1100, height: 760 } });
    await context.grantPermissions(['camera', 'microphone']);
    const page = await context.newPage();
    await page.goto(stack.url, { waitUntil: 'domcontentloaded' });
    await tabTo(page, '#login-email');
    await page.keyboard.type(tenant.users.alice.email);
    await tabTo(page, '#login-password');
    await page.keyboard.type(tenant.users.alice.password);
    await page.keyboard.press('Enter');
    const alice: Softphone = { context, page, user: tenant.users.alice };
    phones.push(alice);
    await signedIn(page, tenant.users.alice);
    const bob = await signIn(chromium.browser, tenant.users.bob);
    phones.push(bob);

    await tabTo(page, `[data-testid=directory-entry][data-email="${tenant.users.bob.email}"] [data-testid=call-button]`);
    await page.keyboard.press('Enter');
    await bob.page.locator('[data-testid=incoming-call]').waitFor();
    // The incoming call takes the focus, so Enter answers it.
    await bob.page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'accept');
    await bob.page.keyboard.press('Enter');
    await Promise.all([waitForState(alice, 'active'), waitForState(bob, 'active')]);

    await tabTo(page, '[data-testid=hangup]');
    await page.keyboard.press('Enter');
    await Promise.all([waitForState(alice, 'ended'), waitForState(bob, 'ended')]);
    await close(alice, bob);
  });

  test('bob rejects: alice sees the call declined', async () => {
    const tenant = await createTenant();
    const [alice, bob] = await pair(tenant);
    await call(alice, tenant.users.bob);
    await bob.page.locator('[data-testid=reject]').click();
    await waitForState(alice, 'ended');
    assert.equal(await callState(alice).getAttribute('data-reason'), 'rejected');
    const callId = (await callState(alice).getAttribute('data-call-id'))!;
    assert.equal((await waitForCallRecord(callId)).end_reason, 'rejected');
    await close(alice, bob);
  });

  test('alice cancels before bob answers', async () => {
    const tenant = await createTenant();
    const [alice, bob] = await pair(tenant);
    await call(alice, tenant.users.bob);
    await bob.page.locator('[data-testid=incoming-call]').waitFor();
    await waitForState(alice, 'ringing');
    await alice.page.locator('[data-testid=cancel]').click();
    await waitForState(bob, 'ended');
    assert.equal(await callState(bob).getAttribute('data-reason'), 'cancelled');
    await bob.page.locator('[data-testid=incoming-call]').waitFor({ state: 'detached' });
    await close(alice, bob);
  });

  test('nobody answers: both sides see no answer after the ring timeout', async () => {
    const tenant = await createTenant();
    const [alice, bob] = await pair(tenant);
    await call(alice, tenant.users.bob);
    await bob.page.locator('[data-testid=incoming-call]').waitFor();
    const timeoutMs = (Number(stack.edgeVars.RING_TIMEOUT_SECONDS) + 10) * 1000;
    await Promise.all([waitForState(alice, 'ended', timeoutMs), waitForState(bob, 'ended', timeoutMs)]);
    assert.equal(await callState(alice).getAttribute('data-reason'), 'no-answer');
    assert.equal(await callState(bob).getAttribute('data-reason'), 'no-answer');
    await close(alice, bob);
  });

  test('a call forced through TURN connects over relay candidates of the real coturn', async () => {
    const tenant = await createTenant();
    const [alice, bob] = await pair(tenant, { forceRelay: true });
    await call(alice, tenant.users.bob);
    await bob.page.locator('[data-testid=accept]').click();
    await Promise.all([waitForState(alice, 'active', 30_000), waitForState(bob, 'active', 30_000)]);
    const stats = await flowingMedia(alice);
    assertFlowing(stats, 'alice (relay)');
    assert.deepEqual(stats.selectedCandidateTypes, ['relay', 'relay']);
    await alice.page.locator('[data-testid=hangup]').click();
    await waitForState(bob, 'ended');
    await close(alice, bob);
  });
});
