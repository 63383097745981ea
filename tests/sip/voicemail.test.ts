/**
 * Voicemail through the whole SIP edge: a carrier (SIPp, on a trunk's address) calls bob's number
 * while nobody can answer; the gateway answers, rtpengine plays the greeting to the carrier and
 * forwards what the caller says (SIPp's G.711 recording) to the recorder. The message is filed in
 * bob's mailbox, mailed to him, measured by ffprobe, played in his softphone and deleted, file and
 * all. Nobody else (a colleague, another organisation) reaches it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from 'rtpengine-client';
import type { PhoneNumberView, PstnCallRecordList, VoicemailList, VoicemailView } from '@callstack/protocol';
import { CARRIER_TAG } from '../../sip-edge/src/MediaAnchor.ts';
import { eventually, signIn, useBrowser } from '../lib/browser.ts';
import { api, createTenant, login, waitForMail, type TestTenant } from '../lib/fixtures.ts';
import { startSipp } from '../lib/sipp.ts';
import { stack } from '../lib/stack.ts';

const chromium = useBrowser();
const scenario = join(fileURLToPath(new URL('.', import.meta.url)), 'scenarios', 'carrier-voicemail.xml');
const caller = '+442079460177';
/** What SIPp speaks after the greeting: g711a.pcap's RTP spans about 7 s. */
const SPOKEN_MS = 7_000;
let tenant: TestTenant;
let adminToken: string;
let bobToken: string;
let did: string;

before(async () => {
  tenant = await createTenant();
  adminToken = (await login(tenant.users.alice)).accessToken;
  bobToken = (await login(tenant.users.bob)).accessToken;
  did = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  const added = await api<PhoneNumberView>('POST', '/api/admin/numbers', {
    auth: adminToken,
    body: { number: did, route: { kind: 'user', userId: tenant.users.bob.id } },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const contact = await api('POST', '/api/contacts', { auth: bobToken, body: { kind: 'external', phone: caller, displayName: 'Dr Outside' } });
  assert.equal(contact.status, 201, JSON.stringify(contact.body));
});

/**
 * Packets rtpengine received from the carrier on the voicemail session; null without one. The
 * carrier echoes what it gets, so during the greeting these are the greeting, come back.
 */
async function fromCarrier(): Promise<number | null> {
  const client = new Client({ timeout: 2_000 });
  try {
    const ng = [stack.sip.rtpengineNgPort, '127.0.0.1'] as const;
    const list = await client.list(...ng, { limit: 100 });
    const callId = (list.calls as string[] | undefined)?.find((id) => id.startsWith('vm:'));
    if (!callId) return null;
    const query = (await client.query(...ng, { 'call-id': callId })) as {
      tags?: Record<string, { medias?: { type: string; streams?: { stats?: { packets?: number } }[] }[] }>;
    };
    return (query.tags?.[CARRIER_TAG]?.medias ?? [])
      .filter((media) => media.type === 'audio')
      .flatMap((media) => media.streams ?? [])
      .reduce((sum, stream) => sum + (stream.stats?.packets ?? 0), 0);
  } finally {
    client.close();
  }
}

/**
 * The carrier calls `number` and, `speakAfterMs` after the answer (once the greeting is over), leaves
 * SIPp's recording; `greeted` checks the greeting meanwhile. Resolves with the message as its owner lists it.
 */
async function leaveMessage(
  number: string,
  ownerToken: string,
  { speakAfterMs = 7_000, greeted = defaultGreeting }: { speakAfterMs?: number; greeted?: () => Promise<void> } = {},
): Promise<VoicemailView> {
  const carrier = await startSipp({
    scenario,
    target: { host: stack.sip.host, port: stack.sip.port },
    localIp: stack.carriers[0]!.host,
    service: number,
    keys: { caller },
    rtpEcho: true,
    pauseMs: speakAfterMs,
    recvTimeoutMs: 30_000,
    timeoutSeconds: 60,
  });
  await greeted();
  const carried = await carrier.result;
  assert.equal(carried.exitCode, 0, carried.output.slice(-1500));
  let list: VoicemailList = { voicemails: [] };
  await eventually(
    'the message in the mailbox',
    async () => (list = (await api<VoicemailList>('GET', '/api/voicemail', { auth: ownerToken })).body).voicemails.length === 1,
    30_000,
  );
  return list.voicemails[0]!;
}

/** The shipped greeting lasts 6.5 s (325 packets), before the caller speaks. */
async function defaultGreeting(): Promise<void> {
  await eventually('the greeting at the carrier (echoed back)', async () => ((await fromCarrier()) ?? 0) >= 200, 15_000);
}

test('nobody answers bob’s number: the caller hears the greeting and leaves a message that ffprobe measures; bob is mailed, plays it in the softphone and deletes it', async () => {
  // Bob has no browser open and no phone registered: nobody can answer, so the caller goes to voicemail at once.
  const message = await leaveMessage(did, bobToken);
  assert.deepEqual([message.from, message.fromName, message.heard], [caller, 'Dr Outside', false]);
  assert.ok(Math.abs(message.durationMs - SPOKEN_MS) <= 1_500, `message of ${message.durationMs} ms for ${SPOKEN_MS} ms spoken`);

  // The file, measured as a user's player would see it.
  const audio = await fetch(new URL(`/api/voicemail/${message.id}/audio`, stack.url), { headers: { authorization: `Bearer ${bobToken}` } });
  assert.equal(audio.status, 200);
  assert.equal(audio.headers.get('content-type'), 'audio/ogg');
  const file = join(mkdtempSync(join(tmpdir(), 'callstack-voicemail-')), 'message.ogg');
  writeFileSync(file, Buffer.from(await audio.arrayBuffer()));
  const probed = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', file], { encoding: 'utf8' }),
  ) as {
    format: { duration: string };
    streams: { codec_name: string }[];
  };
  assert.equal(probed.streams[0]?.codec_name, 'opus');
  assert.ok(
    Math.abs(Number(probed.format.duration) * 1000 - message.durationMs) <= 250,
    `ffprobe ${probed.format.duration} s, listed ${message.durationMs} ms`,
  );

  const exported = await api<{ voicemails: VoicemailView[] }>('GET', '/api/me/export', { auth: bobToken });
  assert.deepEqual(
    exported.body.voicemails.map((entry) => entry.id),
    [message.id],
    'in his export',
  );
  const [mail] = await waitForMail(tenant.users.bob.email);
  assert.match(mail!.subject, /New voicemail from Dr Outside/);
  assert.match(mail!.text, new RegExp(`Dr Outside \\(\\${caller}\\)`));

  // The call's record: answered by voicemail, ended with the message.
  const calls = (await api<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=1', { auth: adminToken })).body.calls;
  assert.deepEqual([calls[0]?.direction, calls[0]?.did, calls[0]?.finalStatus, calls[0]?.hangupCause], ['inbound', did, 200, 'voicemail']);
  assert.ok(calls[0]!.answeredAt && calls[0]!.durationMs > SPOKEN_MS, JSON.stringify(calls[0]));

  // Only bob reaches it: a colleague and another organisation's admin get not_found.
  const stranger = await createTenant();
  for (const token of [adminToken, (await login(stranger.users.alice)).accessToken]) {
    const other = await api('GET', `/api/voicemail/${message.id}/audio`, { auth: token });
    assert.equal(other.status, 404);
    assert.equal((await api('DELETE', `/api/voicemail/${message.id}`, { auth: token })).status, 404);
    assert.equal((await api<VoicemailList>('GET', '/api/voicemail', { auth: token })).body.voicemails.length, 0);
  }

  const bob = await signIn(chromium.browser, tenant.users.bob);
  await bob.page.locator('[data-testid=nav-voicemail]').click();
  const row = bob.page.locator('[data-testid=voicemail-row]');
  await row.filter({ hasText: 'Dr Outside' }).waitFor();
  assert.equal(await row.getAttribute('data-heard'), 'true', 'fetched once above, so heard');
  await row.locator('[data-testid=voicemail-play]').click();
  const player = bob.page.locator('[data-testid=voicemail-audio]');
  await player.waitFor();
  await eventually('the message playing in the browser', () => player.evaluate((element: HTMLAudioElement) => element.currentTime > 0.5), 15_000);
  const shown = await player.evaluate((element: HTMLAudioElement) => element.duration);
  assert.ok(Math.abs(shown * 1000 - message.durationMs) <= 500, `the browser reads ${shown} s`);

  await row.locator('[data-testid=voicemail-delete]').click();
  await bob.page.locator('[data-testid=voicemail-empty]').waitFor();
  assert.equal((await api('GET', `/api/voicemail/${message.id}/audio`, { auth: bobToken })).status, 404);
  assert.equal(existsSync(stack.tmp('voicemail', tenant.id, `${calls[0]!.callId}.ogg`)), false, 'the file is gone from the gateway');

  // His own greeting, chosen as a file: it plays back, and "Use the default" takes it away again.
  const state = bob.page.locator('[data-testid=greeting-state]');
  assert.equal(await state.getAttribute('data-own'), 'false');
  await bob.page.locator('[data-testid=greeting-file]').setInputFiles(toneWav(1));
  await bob.page.locator('[data-testid=greeting-state][data-own=true]').waitFor();
  await bob.page.locator('[data-testid=greeting-play]').click();
  await bob.page.locator('[data-testid=greeting-audio]').waitFor();
  await bob.page.locator('[data-testid=greeting-file]').setInputFiles({ name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('not audio at all') });
  assert.match((await bob.page.locator('[data-testid=greeting-error]').textContent()) ?? '', /not audio\/wav audio/);
  await bob.page.locator('[data-testid=greeting-default]').click();
  await bob.page.locator('[data-testid=greeting-state][data-own=false]').waitFor();
  await bob.context.close();
});

test('erasing an account erases its messages, files and all', async () => {
  const number = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  const dave = tenant.users.dave;
  const added = await api('POST', '/api/admin/numbers', { auth: adminToken, body: { number, route: { kind: 'user', userId: dave.id } } });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  await leaveMessage(number, (await login(dave)).accessToken);
  const calls = (await api<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=1', { auth: adminToken })).body.calls;
  const file = stack.tmp('voicemail', tenant.id, `${calls[0]!.callId}.ogg`);
  assert.ok(existsSync(file), 'kept on the gateway');
  assert.equal((await api('POST', `/api/admin/users/${dave.id}/erase`, { auth: adminToken })).status, 204);
  assert.equal(existsSync(file), false, 'erased with the account');
});

test('carol’s own greeting (2 s) is what her callers hear before the tone, and her message is recorded after it', async () => {
  const carol = tenant.users.carol;
  const carolToken = (await login(carol)).accessToken;
  const greeting = toneWav(2);
  const uploaded = await fetch(new URL('/api/voicemail/greeting', stack.url), {
    method: 'PUT',
    headers: { authorization: `Bearer ${carolToken}`, 'content-type': 'audio/wav' },
    body: new Blob([readFileSync(greeting)]),
  });
  assert.equal(uploaded.status, 204);
  const number = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  assert.equal((await api('POST', '/api/admin/numbers', { auth: adminToken, body: { number, route: { kind: 'user', userId: carol.id } } })).status, 201);

  // The caller speaks 4 s after the answer: between 2 and 4 s nothing comes back but the greeting's 100 packets.
  const message = await leaveMessage(number, carolToken, {
    speakAfterMs: 4_000,
    greeted: async () => {
      await eventually('the greeting at the carrier (echoed back)', async () => ((await fromCarrier()) ?? 0) >= 50, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const packets = (await fromCarrier()) ?? 0;
      assert.ok(packets >= 80 && packets <= 130, `${packets} packets of greeting: 2 s is 100`);
    },
  });
  assert.ok(Math.abs(message.durationMs - SPOKEN_MS) <= 1_500, `message of ${message.durationMs} ms for ${SPOKEN_MS} ms spoken`);
});

/** A WAV file of a `seconds`-long tone, made by ffmpeg. */
function toneWav(seconds: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'callstack-greeting-')), 'greeting.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-ar', '16000', '-ac', '1', file]);
  return file;
}
