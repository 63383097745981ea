/**
 * Desk phones (baresip) and web users (Chromium) calling each other through the whole SIP edge:
 * Kamailio (registrar, digest auth), the drachtio-srf gateway, rtpengine (RTP <-> DTLS-SRTP/ICE)
 * and the edge, which decides where every call goes. Audio is asserted both ways: RTP counters
 * in the browser, and energy in what the phone recorded. A carrier (SIPp, on a trunk's address)
 * calls a user's number too: it rings the browser and the desk phone together.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { Client, type NgResponse } from 'rtpengine-client';
import { qualityReportOf } from '../../sip-edge/src/callQuality.ts';
import { BROWSER_TAG, PHONE_TAG } from '../../sip-edge/src/MediaAnchor.ts';
import { demoSipCredentials } from '../../edge/scripts/seed.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { audioEnergy, Baresip, makeSilentWav, makeToneWav } from '../lib/baresip.ts';
import { call, callState, eventually, mediaStats, signIn, type Softphone, useBrowser, waitForPresence, waitForState } from '../lib/browser.ts';
import type { PstnCallRecordList, PstnCallRecordView } from '@callstack/protocol';
import { api, createTenant, login, waitForCallRecord, type TestTenant, type TestUser } from '../lib/fixtures.ts';
import { finalResponse, headerValues, startSipp } from '../lib/sipp.ts';
import { stack } from '../lib/stack.ts';
import { fileURLToPath } from 'node:url';

const chromium = useBrowser();
const work = mkdtempSync(join(tmpdir(), 'callstack-phone-calls-'));
const tone = join(work, 'tone.wav');
/** A second pitch, to tell who a phone is hearing. */
const highTone = join(work, 'tone-high.wav');
const silence = join(work, 'silence.wav');
const phones: Baresip[] = [];

before(async () => {
  // aufile ends a call when its file runs out: two minutes outlast every call here.
  await makeToneWav(tone, { hz: 440, seconds: 120 });
  await makeToneWav(highTone, { hz: 1200, seconds: 120 });
  await makeSilentWav(silence, 2);
});
// A phone a failed test left registered would ring in the next one: every test ends with none.
afterEach(async () => {
  await Promise.all(phones.splice(0).map((phone) => phone.stop()));
});
after(async () => {
  await Promise.all(phones.map((phone) => phone.stop()));
});

/** `user`'s desk phone, registered with the user's SIP credentials through Kamailio. */
async function deskPhone(user: TestUser, name: string, audioSource = tone, transport: 'udp' | 'tls' = 'udp'): Promise<Baresip> {
  const { host, port, tlsPort, realm } = stack.sip;
  const phone = await Baresip.start({
    name,
    logFile: stack.tmp('logs', `baresip-${name}.log`),
    account: { ...demoSipCredentials(user), domain: realm, registrar: transport === 'tls' ? { host, port: tlsPort, transport } : { host, port } },
    audioSource,
    recordTo: join(work, `${name}-received.wav`),
  });
  phones.push(phone);
  await phone.registered(15_000);
  return phone;
}

async function stopPhone(phone: Baresip): Promise<void> {
  phones.splice(phones.indexOf(phone), 1);
  await phone.stop();
}

async function browser(user: TestUser): Promise<Softphone> {
  const softphone = await signIn(chromium.browser, user);
  chromium.phones.push(softphone);
  return softphone;
}

async function extensionOf(user: TestUser): Promise<string> {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query<{ extension: string }>('select extension from users where id = $1', [user.id]);
    return rows[0]!.extension;
  });
}

async function qualityOf(callId: string): Promise<{ user_id: string; samples: number; mos_min: number; codec: string }[]> {
  return withClient(
    stack.database,
    async (client) => (await client.query('select user_id, samples, mos_min, codec from call_quality where call_id = $1', [callId])).rows,
  );
}

/** The negotiated direction of the browser's audio transceiver. */
function audioDirection(softphone: Softphone): Promise<string | null> {
  return softphone.page.evaluate(() => {
    const pc = (window as unknown as { __callstack: { peerConnection(): RTCPeerConnection | null } }).__callstack.peerConnection();
    return pc?.getTransceivers().find((each) => each.receiver.track.kind === 'audio')?.currentDirection ?? null;
  });
}

/** After a resume, audio flows again both ways: both counters grow by at least MIN_PACKETS. */
async function assertAudioResumed(softphone: Softphone): Promise<void> {
  const before = await mediaStats(softphone);
  await eventually(
    'audio flowing both ways again',
    async () => {
      const now = await mediaStats(softphone);
      return now.audioPacketsReceived - before.audioPacketsReceived >= MIN_PACKETS && now.audioPacketsSent - before.audioPacketsSent >= MIN_PACKETS;
    },
    15_000,
  );
}

async function legsOf(
  callId: string,
): Promise<{ caller_leg: string; callee_leg: string | null; sip_status: number | null; post_dial_delay_ms: number | null }> {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query('select caller_leg, callee_leg, sip_status, post_dial_delay_ms from call_records where call_id = $1', [callId]);
    return rows[0];
  });
}

const MIN_PACKETS = 50;

/** rtpengine's view of `user`'s phone leg (the gateway's session `sip-<user>:<call>`); null without one. */
async function phoneLeg(user: TestUser): Promise<NgResponse | null> {
  const client = new Client({ timeout: 2_000 });
  try {
    const ng = [stack.sip.rtpengineNgPort, '127.0.0.1'] as const;
    const list = await client.list(...ng, { limit: 100 });
    const callId = (list.calls as string[] | undefined)?.find((id) => id.startsWith(`sip-${user.id}:`));
    return callId ? await client.query(...ng, { 'call-id': callId }) : null;
  } finally {
    client.close();
  }
}

/** Packets rtpengine received on `user`'s phone leg: from the phone, and from the other side (which it forwards to the phone). */
async function legPackets(user: TestUser): Promise<{ fromPhone: number; towardsPhone: number } | null> {
  const query = (await phoneLeg(user)) as { tags?: Record<string, { medias?: { type: string; streams?: { stats?: { packets?: number } }[] }[] }> } | null;
  if (!query) return null;
  const packets = (tag: string) =>
    (query.tags?.[tag]?.medias ?? [])
      .filter((media) => media.type === 'audio')
      .flatMap((media) => media.streams ?? [])
      .reduce((sum, stream) => sum + (stream.stats?.packets ?? 0), 0);
  return { fromPhone: packets(PHONE_TAG), towardsPhone: packets(BROWSER_TAG) };
}

/** Whether the gateway can rate `user`'s phone now: rtpengine holds a receiver report from it. */
async function phoneReported(user: TestUser): Promise<boolean> {
  const query = await phoneLeg(user);
  return query !== null && qualityReportOf(query, { callId: 'probe', phoneTag: PHONE_TAG, browserTag: BROWSER_TAG, intervalMs: 5_000 }) !== null;
}

/** The browser receives and sends audio through rtpengine (or fails after 15 s). */
async function assertBrowserAudio(softphone: Softphone): Promise<void> {
  await eventually(
    'audio both ways in the browser',
    async () => {
      const stats = await mediaStats(softphone);
      return stats.audioPacketsReceived >= MIN_PACKETS && stats.audioPacketsSent >= MIN_PACKETS;
    },
    15_000,
  );
}

/** What the phone received was sound, not silence (its recording is complete once the call closed). */
async function assertPhoneHeard(phone: Baresip): Promise<void> {
  const [heard, quiet] = [await audioEnergy(join(work, `${phone.name}-received.wav`)), await audioEnergy(silence)];
  assert.ok(heard.seconds >= 0.5, `${phone.name} recorded ${heard.seconds} s`);
  assert.ok(heard.rms > 20 * Math.max(quiet.rms, 1e-4), `${phone.name} heard rms ${heard.rms} (silence ${quiet.rms})`);
}

describe('desk phones and web users', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('a registered desk phone makes its user online for colleagues, and offline when it unregisters', async () => {
    const alice = await browser(tenant.users.alice);
    const phone = await deskPhone(tenant.users.carol, 'carol-presence');
    await waitForPresence(alice.page, tenant.users.carol, 'online');
    await stopPhone(phone);
    await waitForPresence(alice.page, tenant.users.carol, 'offline', 'directory', 30_000);
    await alice.context.close();
  });

  test("bob's desk phone calls alice's extension; she answers in the browser; audio flows both ways; his hang-up ends it with a CDR", async () => {
    const alice = await browser(tenant.users.alice);
    const phone = await deskPhone(tenant.users.bob, 'bob-calls');
    await phone.dial(`sip:${await extensionOf(tenant.users.alice)}@${stack.sip.realm}`);
    await alice.page.locator('[data-testid=incoming-call]').filter({ hasText: tenant.users.bob.displayName }).waitFor();
    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');
    await phone.waitFor('CALL_ESTABLISHED', 15_000);
    const callId = await callState(alice).getAttribute('data-call-id');
    assert.ok(callId);
    await assertBrowserAudio(alice);
    // The phone's side is rated from its RTCP (through rtpengine) every 5 s: talk long enough for
    // two reports, and until the phone's receiver reports have reached rtpengine (RTCP intervals
    // are randomised, so the first may come late).
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await eventually('a receiver report from the phone in rtpengine', () => phoneReported(tenant.users.bob), 20_000);

    await phone.hangup();
    await phone.waitFor('CALL_CLOSED');
    await waitForState(alice, 'ended');
    await assertPhoneHeard(phone);
    const cdr = await waitForCallRecord(callId);
    assert.equal(cdr.caller_id, tenant.users.bob.id);
    assert.equal(cdr.callee_id, tenant.users.alice.id);
    assert.equal(cdr.end_reason, 'hangup');
    const legs = await legsOf(callId);
    assert.deepEqual({ caller: legs.caller_leg, callee: legs.callee_leg, sipStatus: legs.sip_status }, { caller: 'sip', callee: 'web', sipStatus: null });
    assert.ok(legs.post_dial_delay_ms !== null && legs.post_dial_delay_ms >= 0, `post-dial delay ${legs.post_dial_delay_ms}`);
    const quality = await qualityOf(callId);
    const phoneSide = quality.find((row) => row.user_id === tenant.users.bob.id);
    assert.ok(phoneSide, `a MOS for the phone's side: ${JSON.stringify(quality)}`);
    assert.equal(phoneSide.codec, 'pcmu');
    assert.ok(phoneSide.samples >= 1 && phoneSide.mos_min > 4, JSON.stringify(phoneSide));
    assert.ok(
      quality.some((row) => row.user_id === tenant.users.alice.id),
      'and one for the browser',
    );
    await stopPhone(phone);
    await alice.context.close();
  });

  test("a desk phone on TLS registers, calls alice's extension and talks with her browser both ways", async () => {
    const alice = await browser(tenant.users.alice);
    const phone = await deskPhone(tenant.users.bob, 'bob-on-tls', tone, 'tls');
    await phone.dial(`sip:${await extensionOf(tenant.users.alice)}@${stack.sip.realm}`);
    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');
    await assertBrowserAudio(alice);
    await alice.page.locator('[data-testid=hangup]').click();
    await phone.waitFor('CALL_CLOSED', 15_000);
    await assertPhoneHeard(phone);
    await stopPhone(phone);
    await alice.context.close();
  });

  test("alice dials bob's extension in the browser; only his desk phone is on; he answers; audio both ways; her keypad digits reach his phone; her hang-up closes his call", async () => {
    const alice = await browser(tenant.users.alice);
    const phone = await deskPhone(tenant.users.bob, 'bob-answers');
    await waitForPresence(alice.page, tenant.users.bob, 'online');
    const extension = await extensionOf(tenant.users.bob);
    const row = alice.page.locator(`[data-testid=directory-entry][data-email="${tenant.users.bob.email}"]`);
    assert.equal(await row.locator('[data-testid=extension]').textContent(), `Ext. ${extension} · `);
    await alice.page.locator('#dial-number').fill(`sip:${extension}@${stack.sip.realm}`);
    await alice.page.locator('[data-testid=dial-button]').click();
    const incoming = await phone.waitFor('CALL_INCOMING', 15_000);
    assert.equal(incoming.peerdisplayname, tenant.users.alice.displayName);
    await waitForState(alice, 'ringing');
    await phone.answer();
    await waitForState(alice, 'active');
    await assertBrowserAudio(alice);

    await alice.page.locator('[data-testid=keypad-toggle]').click();
    for (const digit of ['1', '5', '#']) await alice.page.locator(`[data-testid="key-${digit}"]`).click();
    const digits: string[] = [];
    for (let i = 0; i < 3; i++) digits.push((await phone.waitFor('CALL_DTMF_START', 10_000)).param ?? '');
    assert.deepEqual(digits, ['1', '5', '#']);

    const callId = await callState(alice).getAttribute('data-call-id');
    await alice.page.locator('[data-testid=hangup]').click();
    await phone.waitFor('CALL_CLOSED', 15_000);
    await assertPhoneHeard(phone);
    await waitForCallRecord(callId!);
    assert.deepEqual(await legsOf(callId!).then((legs) => [legs.caller_leg, legs.callee_leg]), ['web', 'sip']);
    await stopPhone(phone);
    await alice.context.close();
  });

  test("desk phone to desk phone: bob dials carol's extension, her phone rings and answers, each hears the other, her hang-up ends both", async () => {
    const bob = await deskPhone(tenant.users.bob, 'bob-to-carol');
    const carol = await deskPhone(tenant.users.carol, 'carol-from-bob');
    const alice = await browser(tenant.users.alice);
    await waitForPresence(alice.page, tenant.users.carol, 'online');
    await bob.dial(`sip:${await extensionOf(tenant.users.carol)}@${stack.sip.realm}`);
    await carol.waitFor('CALL_INCOMING', 15_000);
    await carol.answer();
    await Promise.all([bob.waitFor('CALL_ESTABLISHED', 15_000), carol.waitFor('CALL_ESTABLISHED', 15_000)]);
    await waitForPresence(alice.page, tenant.users.carol, 'busy');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await carol.hangup();
    await Promise.all([bob.waitFor('CALL_CLOSED', 15_000), carol.waitFor('CALL_CLOSED', 15_000)]);
    await assertPhoneHeard(bob);
    await assertPhoneHeard(carol);
    await Promise.all([stopPhone(bob), stopPhone(carol)]);
    await alice.context.close();
  });

  test("blind transfer from a desk phone: bob's phone transfers alice to carol's extension; alice's browser calls carol, who answers; bob's call closes", async () => {
    const alice = await browser(tenant.users.alice);
    const carol = await browser(tenant.users.carol);
    const phone = await deskPhone(tenant.users.bob, 'bob-transfers');
    await phone.dial(`sip:${await extensionOf(tenant.users.alice)}@${stack.sip.realm}`);
    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');
    await phone.waitFor('CALL_ESTABLISHED', 15_000);

    await phone.transfer(`sip:${await extensionOf(tenant.users.carol)}@${stack.sip.realm}`);
    await carol.page.locator('[data-testid=incoming-call]').filter({ hasText: tenant.users.alice.displayName }).waitFor({ timeout: 20_000 });
    assert.equal((await phone.waitFor('CALL_CLOSED', 15_000)).class, 'call');
    await carol.page.locator('[data-testid=accept]').click();
    await Promise.all([waitForState(alice, 'active'), waitForState(carol, 'active')]);
    assert.equal(await alice.page.locator('[data-testid=call-status]').getAttribute('data-state'), 'active');
    await alice.page.locator('[data-testid=hangup]').click();
    await waitForState(carol, 'ended');
    await Promise.all([alice.context.close(), carol.context.close()]);
  });

  test("a desk phone being transferred: carol's phone transfers bob's phone to alice; bob's phone calls her (REFER) and she hears him", async () => {
    const alice = await browser(tenant.users.alice);
    const bob = await deskPhone(tenant.users.bob, 'bob-transferred');
    const carol = await deskPhone(tenant.users.carol, 'carol-transfers');
    await waitForPresence(alice.page, tenant.users.carol, 'online');
    await bob.dial(`sip:${await extensionOf(tenant.users.carol)}@${stack.sip.realm}`);
    await carol.waitFor('CALL_INCOMING', 15_000);
    await carol.answer();
    await Promise.all([bob.waitFor('CALL_ESTABLISHED', 15_000), carol.waitFor('CALL_ESTABLISHED', 15_000)]);

    await carol.transfer(`sip:${await extensionOf(tenant.users.alice)}@${stack.sip.realm}`);
    await bob.waitFor('TRANSFER', 15_000);
    await alice.page.locator('[data-testid=incoming-call]').filter({ hasText: tenant.users.bob.displayName }).waitFor({ timeout: 20_000 });
    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');
    await assertBrowserAudio(alice);
    await alice.page.locator('[data-testid=hangup]').click();
    await alice.context.close();
  });

  test("blind transfer from the softphone: alice transfers bob's desk phone to carol's extension; his phone calls carol (REFER), who answers and hears him", async () => {
    const alice = await browser(tenant.users.alice);
    const carol = await browser(tenant.users.carol);
    const phone = await deskPhone(tenant.users.bob, 'bob-is-transferred');
    await phone.dial(`sip:${await extensionOf(tenant.users.alice)}@${stack.sip.realm}`);
    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');

    await alice.page.locator('[data-testid=transfer-toggle]').click();
    await alice.page.locator('#transfer-target').fill('9999');
    await alice.page.locator('[data-testid=transfer-button]').click();
    assert.match((await alice.page.locator('[data-testid=transfer-error]').textContent()) ?? '', /No colleague has extension 9999/);
    await alice.page.locator('#transfer-target').fill(await extensionOf(tenant.users.carol));
    await alice.page.locator('[data-testid=transfer-button]').click();
    await waitForState(alice, 'ended');
    assert.equal(await callState(alice).getAttribute('data-reason'), 'transferred');
    await phone.waitFor('TRANSFER', 15_000);
    await carol.page.locator('[data-testid=incoming-call]').filter({ hasText: tenant.users.bob.displayName }).waitFor({ timeout: 20_000 });
    await carol.page.locator('[data-testid=accept]').click();
    await waitForState(carol, 'active');
    await assertBrowserAudio(carol);
    await carol.page.locator('[data-testid=hangup]').click();
    await Promise.all([alice.context.close(), carol.context.close()]);
  });

  test("attended transfer from the softphone: alice holds bob's phone, consults carol's phone, completes; bob's and carol's phones then hear each other, and alice is out of both calls", async () => {
    const since = new Date();
    const alice = await browser(tenant.users.alice);
    const bob = await deskPhone(tenant.users.bob, 'bob-attended', tone);
    const carol = await deskPhone(tenant.users.carol, 'carol-attended', highTone);
    await bob.dial(`sip:${await extensionOf(tenant.users.alice)}@${stack.sip.realm}`);
    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');
    await assertBrowserAudio(alice);

    await alice.page.locator('[data-testid=transfer-toggle]').click();
    await alice.page.locator('#transfer-target').fill(await extensionOf(tenant.users.carol));
    await alice.page.locator('[data-testid=consult-button]').click();
    // Bob is held while alice asks carol.
    await eventually('bob held (sendonly)', async () => (await audioDirection(alice)) === 'sendonly');
    await carol.waitFor('CALL_INCOMING', 15_000);
    await carol.answer();
    const consultation = alice.page.locator('[data-testid=consultation]');
    await alice.page.locator('[data-testid=consultation][data-state=active]').waitFor({ timeout: 20_000 });
    const consultationId = await consultation.getAttribute('data-call-id');

    await alice.page.locator('[data-testid=complete-transfer]').click();
    await waitForState(alice, 'ended');
    assert.equal(await callState(alice).getAttribute('data-reason'), 'transferred');
    // Carol's consultation with alice ends once bob's call took it over.
    await alice.page.locator('[data-testid=consultation][data-state=ended]').waitFor({ timeout: 20_000 });
    const consultationRecord = await waitForCallRecord(consultationId!);
    assert.equal(consultationRecord.end_reason, 'transferred');

    // Neither phone ever hung up: each only got a re-INVITE. Both legs' new media sessions carry
    // audio both ways: rtpengine's counters, packets from the phone and from the other leg.
    await eventually('audio both ways through both legs of bob’s call to carol', async () => {
      const counts = await Promise.all([tenant.users.bob, tenant.users.carol].map((user) => legPackets(user)));
      return counts.every((leg) => leg !== null && leg.fromPhone >= MIN_PACKETS && leg.towardsPhone >= MIN_PACKETS);
    });
    await carol.hangup();
    await Promise.all([bob.waitFor('CALL_CLOSED', 15_000), carol.waitFor('CALL_CLOSED', 15_000)]);
    // What carol's phone played last is bob's pitch. (Bob's baresip 1.0 stops decoding after the
    // second change of stream within one call, so his recording cannot show carol's.)
    const carolHeard = await audioEnergy(join(work, 'carol-attended-received.wav'), { lastSeconds: 2 });
    assert.ok(Math.abs(carolHeard.hz - 440) < 80 && carolHeard.rms > 0.01, `carol heard ${JSON.stringify(carolHeard)} at the end, not bob's 440 Hz`);
    // Bob's new call to carol took over the consultation, and her hang-up ended it.
    await eventually('the record of bob’s call to carol', async () => {
      const { rows } = await withClient(stack.database, (client) =>
        client.query(
          `select end_reason, caller_leg, callee_leg from call_records where caller_id = $1 and callee_id = $2 and answered_at is not null and created_at >= $3`,
          [tenant.users.bob.id, tenant.users.carol.id, since],
        ),
      );
      return rows.length === 1 && rows[0].end_reason === 'hangup' && rows[0].caller_leg === 'sip' && rows[0].callee_leg === 'sip';
    });
    await Promise.all([stopPhone(bob), stopPhone(carol)]);
    await alice.context.close();
  });

  test("attended transfer from a desk phone (SIPp): alice's phone consults carol, then REFERs bob with Replaces; bob's new call takes over the consultation and carol hears him", async () => {
    const since = new Date();
    const bob = await browser(tenant.users.bob);
    const carol = await browser(tenant.users.carol);
    const alice = demoSipCredentials(tenant.users.alice);
    const dialogFile = join(work, 'consultation-dialog.txt');
    const { host, port, realm } = stack.sip;
    const phone = (service: string, keys: Record<string, string | number>) =>
      startSipp({
        scenario: join(dirname(fileURLToPath(import.meta.url)), 'scenarios', 'attended-transfer.xml'),
        target: { host, port },
        service,
        auth: alice,
        recvTimeoutMs: 20_000,
        timeoutSeconds: 60,
        keys: { caller: alice.username, domain: realm, dialogfile: dialogFile, target: '-', consultcid: '-', consultto: '-', consultfrom: '-', ...keys },
      });
    const consultation = await phone(await extensionOf(tenant.users.carol), { role: 1 });
    const phoneGaveUp = (run: typeof consultation) =>
      run.result.then((result) => {
        throw new Error(`the phone's SIPp ended first (exit ${result.exitCode}):\n${result.output}`);
      });
    await Promise.race([carol.page.locator('[data-testid=accept]').click(), phoneGaveUp(consultation)]);
    await waitForState(carol, 'active');
    await eventually(
      'the consultation’s dialog written by the phone',
      async () => existsSync(dialogFile) && readFileSync(dialogFile, 'utf8').trim().split(' ').length === 3,
    );
    const [sipCallId, toTag, fromTag] = readFileSync(dialogFile, 'utf8').trim().split(' ') as [string, string, string];
    const consultationId = await callState(carol).getAttribute('data-call-id');

    const transfer = await phone(await extensionOf(tenant.users.bob), {
      role: 2,
      target: await extensionOf(tenant.users.carol),
      consultcid: encodeURIComponent(sipCallId),
      consultto: toTag,
      consultfrom: fromTag,
    });
    await Promise.race([bob.page.locator('[data-testid=accept]').click(), phoneGaveUp(transfer)]);
    // The REFER comes right after the phone's ACK: the first call may end before its media is up.
    const firstId = await callState(bob).getAttribute('data-call-id');
    // Bob's call ends transferred; his browser calls carol, whose browser takes it over at once.
    await eventually('bob talking with carol in a new call', async () => {
      const [state, callId] = await Promise.all([callState(bob).getAttribute('data-state'), callState(bob).getAttribute('data-call-id')]);
      return state === 'active' && callId !== firstId;
    });
    await eventually(
      'carol in bob’s call',
      async () => (await callState(carol).getAttribute('data-call-id')) !== consultationId && (await callState(carol).getAttribute('data-state')) === 'active',
    );
    await Promise.all([assertBrowserAudio(bob), assertBrowserAudio(carol)]);

    // The phone: both its calls ended by the gateway, the REFER accepted with NOTIFY progress.
    const [consulted, transferred] = await Promise.all([consultation.result, transfer.result]);
    assert.equal(consulted.exitCode, 0, consulted.output);
    assert.equal(transferred.exitCode, 0, transferred.output);
    assert.ok(transferred.received.some((message) => message.status === 202));
    assert.equal((await waitForCallRecord(consultationId!)).end_reason, 'transferred');
    assert.equal((await waitForCallRecord(firstId!)).end_reason, 'transferred');
    await bob.page.locator('[data-testid=hangup]').click();
    await eventually('the record of bob’s call to carol', async () => {
      const { rows } = await withClient(stack.database, (client) =>
        client.query(`select end_reason from call_records where caller_id = $1 and callee_id = $2 and answered_at is not null and created_at >= $3`, [
          tenant.users.bob.id,
          tenant.users.carol.id,
          since,
        ]),
      );
      return rows.length === 1 && rows[0].end_reason === 'hangup';
    });
    await Promise.all([bob.context.close(), carol.context.close()]);
  });

  test('hold and resume from the phone and from the browser: each side gets the direction it should, and two-way audio comes back', async () => {
    const alice = await browser(tenant.users.alice);
    const phone = await deskPhone(tenant.users.bob, 'bob-holds');
    await phone.dial(`sip:${await extensionOf(tenant.users.alice)}@${stack.sip.realm}`);
    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');
    await assertBrowserAudio(alice);

    // The phone holds (sendonly): the browser must answer recvonly, not sendrecv.
    await phone.hold();
    await eventually('the browser answering the hold recvonly', async () => (await audioDirection(alice)) === 'recvonly');
    await phone.resume();
    await eventually('sendrecv again after the phone resumed', async () => (await audioDirection(alice)) === 'sendrecv');
    await assertAudioResumed(alice);

    // The browser holds: its own side becomes sendonly, and the phone gets the re-INVITE.
    await alice.page.locator('[data-testid=hold]').click();
    await eventually('the browser on hold (sendonly)', async () => (await audioDirection(alice)) === 'sendonly');
    assert.equal(await alice.page.locator('[data-testid=hold]').getAttribute('aria-pressed'), 'true');
    await phone.nextEvent((event) => event.type === 'CALL_REMOTE_SDP' && event.param === 'offer', 10_000);
    await alice.page.locator('[data-testid=hold]').click();
    await eventually('sendrecv again after the browser resumed', async () => (await audioDirection(alice)) === 'sendrecv');
    await assertAudioResumed(alice);

    await phone.hangup();
    await waitForState(alice, 'ended');
    await stopPhone(phone);
    await alice.context.close();
  });

  test("bob's browser and desk phone ring together; the phone answers; the browser stops ringing (answered elsewhere)", async () => {
    const alice = await browser(tenant.users.alice);
    // Kamailio tells the edge right after it answers the REGISTER: the phone counts once bob shows online.
    const phone = await deskPhone(tenant.users.bob, 'bob-both');
    await waitForPresence(alice.page, tenant.users.bob, 'online');
    const bobWeb = await browser(tenant.users.bob);
    await call(alice, tenant.users.bob);
    await bobWeb.page.locator('[data-testid=incoming-call]').filter({ hasText: tenant.users.alice.displayName }).waitFor();
    await phone.waitFor('CALL_INCOMING', 15_000);
    await phone.answer();
    await waitForState(alice, 'active');
    await bobWeb.page.locator('[data-testid=incoming-call]').waitFor({ state: 'detached' });
    await assertBrowserAudio(alice);
    await phone.hangup();
    await waitForState(alice, 'ended');
    await stopPhone(phone);
    await Promise.all([alice.context.close(), bobWeb.context.close()]);
  });

  test('a desk phone declining a call ends it as rejected, with its SIP status in the CDR', async () => {
    const alice = await browser(tenant.users.alice);
    const phone = await deskPhone(tenant.users.bob, 'bob-declines');
    await waitForPresence(alice.page, tenant.users.bob, 'online');
    await call(alice, tenant.users.bob);
    await phone.waitFor('CALL_INCOMING', 15_000);
    await waitForState(alice, 'ringing');
    const callId = await callState(alice).getAttribute('data-call-id');
    await phone.hangup();
    await waitForState(alice, 'ended');
    assert.equal(await callState(alice).getAttribute('data-reason'), 'rejected');
    const cdr = await waitForCallRecord(callId!);
    assert.equal(cdr.end_reason, 'rejected');
    const legs = await legsOf(callId!);
    assert.equal(legs.callee_leg, null);
    assert.ok(legs.sip_status !== null && legs.sip_status >= 400, `SIP status ${legs.sip_status}`);
    await stopPhone(phone);
    await alice.context.close();
  });

  // Extensions are per organisation (the other one has its own 100): its phones try alice's SIP username and user id.
  test("a phone of another organisation dialling alice's SIP username or user id gets the same 404 as for a number nobody has", async () => {
    const other = await createTenant();
    const phone = await deskPhone(other.users.dave, 'outsider');
    const closed = async (uri: string) => {
      await phone.dial(uri);
      return (await phone.waitFor('CALL_CLOSED', 15_000)).param;
    };
    const byUsername = await closed(`sip:${demoSipCredentials(tenant.users.alice).username}@${stack.sip.realm}`);
    const byUserId = await closed(`sip:${tenant.users.alice.id}@${stack.sip.realm}`);
    const nobody = await closed(`sip:99999@${stack.sip.realm}`);
    assert.match(nobody ?? '', /404/);
    assert.equal(byUsername, nobody);
    assert.equal(byUserId, nobody);
    await stopPhone(phone);
  });
});

describe('calls from the phone network', () => {
  const scenario = join(dirname(fileURLToPath(import.meta.url)), 'scenarios', 'carrier-call.xml');
  const caller = '+442079460123';
  let tenant: TestTenant;
  let adminToken: string;
  let did: string;

  before(async () => {
    tenant = await createTenant();
    adminToken = (await login(tenant.users.alice)).accessToken;
    did = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const added = await api('POST', '/api/admin/numbers', { auth: adminToken, body: { number: did, route: { kind: 'user', userId: tenant.users.alice.id } } });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const contact = await api('POST', '/api/contacts', { auth: adminToken, body: { kind: 'external', phone: caller, displayName: 'Dr Outside' } });
    assert.equal(contact.status, 201, JSON.stringify(contact.body));
  });

  /** SIPp as a carrier calling `number` from `source` (a trunk's address, or not), echoing the media it gets. */
  function carrierCalls(number: string, source = stack.carriers[0]!.host) {
    return startSipp({
      scenario,
      target: { host: stack.sip.host, port: stack.sip.port },
      localIp: source,
      service: number,
      keys: { caller },
      rtpEcho: true,
      recvTimeoutMs: 30_000,
      timeoutSeconds: 60,
    });
  }

  async function lastRecord(): Promise<PstnCallRecordView | undefined> {
    const answer = await api<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=1', { auth: adminToken });
    return answer.body.calls[0];
  }

  test("a carrier's call to alice's number rings her browser and her desk phone together, with her contact's name and the number; she answers in the browser; audio goes to the carrier and back", async () => {
    const alice = await browser(tenant.users.alice);
    const phone = await deskPhone(tenant.users.alice, 'alice-desk');
    const carrier = await carrierCalls(did);
    const incoming = alice.page.locator('[data-testid=incoming-call]');
    await incoming.filter({ hasText: 'Dr Outside' }).waitFor({ timeout: 20_000 });
    assert.equal(await incoming.locator('[data-testid=caller-number]').textContent(), caller);
    const ringing = await phone.waitFor('CALL_INCOMING', 15_000);
    assert.equal(ringing.peerdisplayname, 'Dr Outside');

    await alice.page.locator('[data-testid=accept]').click();
    await waitForState(alice, 'active');
    // The desk phone stops ringing once the browser took the call.
    await phone.waitFor('CALL_CLOSED', 15_000);
    // SIPp echoes what it receives: packets come back to the browser only if the carrier got them.
    await assertBrowserAudio(alice);
    await alice.page.locator('[data-testid=hangup]').click();
    const carried = await carrier.result;
    assert.equal(carried.exitCode, 0, carried.output.slice(-1500));

    await eventually('the inbound record complete', async () => (await lastRecord())?.endedAt != null, 15_000);
    const record = (await lastRecord())!;
    assert.deepEqual(
      [record.direction, record.did, record.callerId, record.userId, record.trunkId, record.finalStatus, record.hangupCause],
      ['inbound', did, caller, tenant.users.alice.id, stack.carriers[0]!.id, 200, 'hangup'],
    );
    assert.ok(record.answeredAt && record.durationMs > 0 && record.postDialDelayMs !== null, JSON.stringify(record));
    await alice.context.close();
  });

  test('a number nobody has gets 404 with the reason, and rings no one', async () => {
    const carrier = await carrierCalls('+442079469999');
    const final = finalResponse(await carrier.result);
    assert.equal(final?.status, 404);
    assert.match(headerValues(final!, 'Reason').join(''), /not_in_service/);
  });

  test('an INVITE to the number from an address that is no trunk is challenged like any phone, and rings no one', async () => {
    const before = await lastRecord();
    const carrier = await carrierCalls(did, '127.0.0.63');
    const result = await carrier.result;
    assert.equal(finalResponse(result)?.status, 407, result.output.slice(-1500));
    assert.equal((await lastRecord())?.callId, before?.callId, 'no record for a stranger’s call');
  });
});
