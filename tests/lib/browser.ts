/**
 * Real Chromium (Debian's package) driven by playwright-core, with fake camera and microphone,
 * and the softphone's own UI as a person would use it.
 */
import { mkdtempSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestUser } from './fixtures.ts';
import { stack } from './stack.ts';

/** `extraArgs`: more Chromium flags (e.g. a fake microphone file). */
/**
 * The app is usable once its DOM is there (the tests then wait for what they need); waiting for
 * `load` once timed out at Playwright's 30 s default on a loaded 2-core machine.
 */
const NAVIGATION = { waitUntil: 'domcontentloaded', timeout: 60_000 } as const;

export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  // Playwright puts profiles in os.tmpdir(); keep them out of the system's /tmp clutter.
  const home = mkdtempSync(join(tmpdir(), 'callstack-chromium-'));
  process.env.TMPDIR = home;
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      ...extraArgs,
    ],
  });
}

/**
 * One Chromium for a test file: launched before its tests, closed after them together with every
 * softphone the file put in `phones`.
 */
export function useBrowser(extraArgs: string[] = []): { readonly browser: Browser; phones: Softphone[] } {
  const phones: Softphone[] = [];
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchBrowser(extraArgs);
  });
  after(async () => {
    await Promise.all(phones.map((phone) => phone.context.close()));
    await browser?.close();
  });
  return {
    get browser(): Browser {
      if (!browser) throw new Error('the browser starts in the before hook: use it inside a test');
      return browser;
    },
    phones,
  };
}

export interface Softphone {
  context: BrowserContext;
  page: Page;
  user: TestUser;
}

/** A fresh browser profile (its own storage) at `path`, relative to the stack or absolute. */
export async function openPage(browser: Browser, path = '/'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  await page.goto(new URL(path, stack.url).toString(), NAVIGATION);
  return { context, page };
}

/** Fills and submits the sign-in form; the caller waits for whatever should follow. */
export async function submitSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await page.locator('form[data-testid=login-form] [type=submit]').click();
}

export interface SignInOptions {
  forceRelay?: boolean;
  /** Presence turns idle after this many milliseconds without input (`callstack.idleAfterMs`). */
  idleAfterMs?: number;
}

export async function signIn(browser: Browser, user: TestUser, options: SignInOptions = {}): Promise<Softphone> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  await context.grantPermissions(['camera', 'microphone']);
  const settings: Record<string, string> = {};
  if (options.forceRelay) settings['callstack.iceTransportPolicy'] = 'relay';
  if (options.idleAfterMs !== undefined) settings['callstack.idleAfterMs'] = String(options.idleAfterMs);
  await context.addInitScript((entries) => {
    for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);
  }, settings);
  const page = await context.newPage();
  await page.goto(stack.url, NAVIGATION);
  await submitSignIn(page, user.email, user.password);
  await signedIn(page, user);
  return { context, page, user };
}

/** Waits for the softphone of `user` (after a sign-in, or a reload that resumes the session). */
export async function signedIn(page: Page, user: TestUser): Promise<void> {
  await page.locator('[data-testid=me]').filter({ hasText: user.displayName }).waitFor();
}

/** Another tab of the same browser profile: the stored session signs it in as its own device. */
export async function openTab(phone: Softphone): Promise<Page> {
  const page = await phone.context.newPage();
  await page.goto(stack.url, NAVIGATION);
  await signedIn(page, phone.user);
  return page;
}

/** Waits until `watcher` shows `user` with `status`, in the directory or (`where`) the contacts. */
export async function waitForPresence(
  watcher: Page,
  user: TestUser,
  status: string,
  where: 'directory' | 'contacts' = 'directory',
  timeoutMs = 20_000,
): Promise<void> {
  const row =
    where === 'directory'
      ? `[data-testid=directory-entry][data-email="${user.email}"]`
      : `[data-testid=contact][data-kind=user][data-name="${user.displayName}"]`;
  await watcher.locator(`${row} [data-testid=presence-dot][data-status="${status}"]`).waitFor({ timeout: timeoutMs });
}

/** Polls `check` until it holds; for state that other pages or the edge change asynchronously. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The MOS the quality indicator (call or meeting) shows once the edge has rated a report (about 5 s after media flows). */
export async function liveMos(page: Page): Promise<number> {
  const indicator = page.locator('[data-testid=quality-indicator][data-mos]');
  await indicator.waitFor({ timeout: 20_000 });
  return Number(await indicator.getAttribute('data-mos'));
}

export async function call(from: Softphone, to: TestUser): Promise<void> {
  const button = from.page.locator(`[data-testid=directory-entry][data-email="${to.email}"] [data-testid=call-button]`);
  await button.click();
}

export function callState(phone: Softphone) {
  return phone.page.locator('[data-testid=call-status]');
}

export async function waitForState(phone: Softphone, state: string, timeoutMs = 20_000): Promise<void> {
  await phone.page.locator(`[data-testid=call-status][data-state="${state}"]`).waitFor({ timeout: timeoutMs });
}

export interface MediaStats {
  audioPacketsReceived: number;
  audioPacketsLost: number;
  videoPacketsReceived: number;
  videoPacketsLost: number;
  audioPacketsSent: number;
  videoPacketsSent: number;
  selectedCandidateTypes: string[];
}

/** Reads the call's RTCPeerConnection stats through the app's test hook. */
export async function mediaStats(phone: Softphone): Promise<MediaStats> {
  return phone.page.evaluate(async () => {
    const pc = (window as unknown as { __callstack: { peerConnection(): RTCPeerConnection | null } }).__callstack.peerConnection();
    if (!pc) throw new Error('no peer connection');
    const totals = {
      audioPacketsReceived: 0,
      audioPacketsLost: 0,
      videoPacketsReceived: 0,
      videoPacketsLost: 0,
      audioPacketsSent: 0,
      videoPacketsSent: 0,
      selectedCandidateTypes: [] as string[],
    };
    const report = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((entry: Record<string, unknown>) => byId.set(entry.id as string, entry));
    report.forEach((entry: Record<string, unknown>) => {
      const kind = entry.kind as string | undefined;
      if (entry.type === 'inbound-rtp' && (kind === 'audio' || kind === 'video')) {
        totals[`${kind}PacketsReceived`] += Number(entry.packetsReceived ?? 0);
        totals[`${kind}PacketsLost`] += Number(entry.packetsLost ?? 0);
      }
      if (entry.type === 'outbound-rtp' && (kind === 'audio' || kind === 'video')) {
        totals[`${kind}PacketsSent`] += Number(entry.packetsSent ?? 0);
      }
      if (entry.type === 'transport' && entry.selectedCandidatePairId) {
        const pair = byId.get(entry.selectedCandidatePairId as string);
        for (const side of ['localCandidateId', 'remoteCandidateId']) {
          const candidate = pair && byId.get(pair[side] as string);
          if (candidate) totals.selectedCandidateTypes.push(candidate.candidateType as string);
        }
      }
    });
    return totals;
  });
}
