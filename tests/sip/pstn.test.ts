/**
 * Calls to the outside through the whole SIP edge: a desk phone (SIPp, digest-authenticated by
 * Kamailio) or the softphone (Chromium) dials a number, the edge decides, the gateway bridges it to the carrier trunk that SIPp
 * plays on the trunk's own address, with the media anchored in rtpengine. What the carrier gets
 * (the E.164 number, the caller ID) is read from SIPp's message log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PhoneNumberView, PstnCallRecordList, PstnPolicy } from '@callstack/protocol';
import { demoSipCredentials } from '../../edge/scripts/seed.ts';
import { api, createTenant, login, type TestTenant } from '../lib/fixtures.ts';
import { finalResponse, headerValues, startSipp, type SippResult } from '../lib/sipp.ts';
import { callState, eventually as browserEventually, mediaStats, signIn, type Softphone, useBrowser, waitForState } from '../lib/browser.ts';
import { stack } from '../lib/stack.ts';

const scenarios = join(fileURLToPath(new URL('.', import.meta.url)), 'scenarios');
let tenant: TestTenant;
let adminToken: string;
let ownNumber: string;

const policy: PstnPolicy = {
  defaultCountry: 'GB',
  internationalCountries: [],
  allowedPrefixes: [],
  maxConcurrentCalls: 10,
  maxConcurrentCallsPerUser: 2,
  maxCallsPerSecond: 100,
  maxCallsPerMinutePerUser: 100,
  maxCallDurationSeconds: 600,
  mainNumber: null,
};

before(async () => {
  tenant = await createTenant();
  adminToken = (await login(tenant.users.alice)).accessToken;
  assert.equal((await api('PUT', '/api/admin/pstn/policy', { auth: adminToken, body: policy })).status, 200);
  const number = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  const added = await api<PhoneNumberView>('POST', '/api/admin/numbers', {
    auth: adminToken,
    body: { number, route: { kind: 'user', userId: tenant.users.bob.id } },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  ownNumber = added.body.number;
});

/** A desk phone (bob's unless said) dials `number`: the 407 challenge, then the call; it hangs up (invite.xml) or waits for the network to (phone-held.xml). */
function phoneStarts(number: string, { user = tenant.users.bob, scenario = 'invite.xml', timeoutSeconds = 30 } = {}) {
  const { username, password } = demoSipCredentials(user);
  return startSipp({
    scenario: join(scenarios, scenario),
    target: { host: stack.sip.host, port: stack.sip.port },
    localIp: '127.0.0.1',
    service: number,
    auth: { username, password },
    keys: { caller: username, domain: stack.sip.realm },
    recvTimeoutMs: 10_000,
    timeoutSeconds,
    pauseMs: 300,
  });
}

async function phoneDials(number: string, options: Parameters<typeof phoneStarts>[1] = {}): Promise<SippResult> {
  return (await phoneStarts(number, options)).result;
}

function carrier(index: number, scenario = 'uas.xml', { recvTimeoutMs = 15_000, timeoutSeconds = 30 } = {}) {
  const { host, port } = stack.carriers[index]!;
  return startSipp({
    scenario: join(scenarios, scenario),
    target: { host: '127.0.0.1', port: 9 },
    localIp: host,
    localPort: port,
    recvTimeoutMs,
    timeoutSeconds,
  });
}

function describeRun(result: SippResult): string {
  return `exit ${result.exitCode}; received: ${result.received.map((m) => m.firstLine).join(' | ') || 'nothing'}\n${result.output.slice(-1500)}`;
}

async function lastRecord() {
  const answer = await api<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=1', { auth: adminToken });
  return answer.body.calls[0]!;
}

describe('a desk phone calls the outside', () => {
  test('the carrier gets the E.164 number and the caller’s own number; the call connects and ends with a record', async () => {
    const carrierA = await carrier(0);
    const phone = await phoneDials('020 7946 0958'.replace(/ /g, ''));
    const carried = await carrierA.result;
    assert.equal(phone.exitCode, 0, describeRun(phone));
    assert.equal(carried.exitCode, 0, describeRun(carried));
    const invite = carried.received.find((message) => message.firstLine.startsWith('INVITE'))!;
    assert.match(invite.firstLine, /^INVITE sip:\+442079460958@/);
    assert.match(headerValues(invite, 'From').join(''), new RegExp(`sip:\\${ownNumber}@`));
    assert.match(headerValues(invite, 'P-Asserted-Identity').join(''), new RegExp(`\\${ownNumber}`));
    // The carrier sees rtpengine's address, never the phone's own SDP.
    assert.match(invite.text, /m=audio \d+ RTP\/AVP/);
    await eventually(async () => (await lastRecord()).endedAt !== null);
    const record = await lastRecord();
    assert.deepEqual([record.destination, record.trunkId, record.finalStatus, record.hangupCause], ['+442079460958', 'carrier-a', 200, 'caller']);
    assert.ok(record.answeredAt && record.postDialDelayMs !== null);
  });

  test('a carrier answering 503 hands the call to the next trunk', async () => {
    const [down, up] = await Promise.all([carrier(0, 'carrier-503.xml'), carrier(1)]);
    const phone = await phoneDials('02079460958');
    assert.equal(phone.exitCode, 0, describeRun(phone));
    assert.equal((await down.result).received[0]?.firstLine.startsWith('INVITE'), true);
    assert.equal((await up.result).exitCode, 0);
    await eventually(async () => (await lastRecord()).endedAt !== null);
    assert.equal((await lastRecord()).trunkId, 'carrier-b');
  });

  test('bob withholds his number: the carrier gets an anonymous From and Privacy: id (the identity only asserted, RFC 3325)', async () => {
    const bobToken = (await login(tenant.users.bob)).accessToken;
    assert.equal((await api('PUT', '/api/me/caller-id', { auth: bobToken, body: { withheld: true } })).status, 200);
    try {
      const carrierA = await carrier(0);
      const phone = await phoneDials('02079460958');
      const carried = await carrierA.result;
      assert.equal(phone.exitCode, 0, describeRun(phone));
      const invite = carried.received.find((message) => message.firstLine.startsWith('INVITE'))!;
      assert.match(headerValues(invite, 'From').join(''), /sip:anonymous@/);
      assert.deepEqual(headerValues(invite, 'Privacy'), ['id']);
      assert.match(headerValues(invite, 'P-Asserted-Identity').join(''), new RegExp(`\\${ownNumber}`));
    } finally {
      await api('PUT', '/api/me/caller-id', { auth: bobToken, body: { withheld: false } });
    }
  });

  test('international calling closed: 403 with the reason, and no INVITE reaches a carrier', async () => {
    const carrierA = await carrier(0);
    const phone = await phoneDials('+33142685300');
    const final = finalResponse(phone);
    assert.equal(final?.status, 403, describeRun(phone));
    assert.match(headerValues(final!, 'Reason').join(''), /international_closed/);
    const carried = await carrierA.stop();
    assert.equal(carried.received.length, 0, describeRun(carried));
    assert.equal((await lastRecord()).refusal, 'international_closed');
  });
});

describe('the softphone calls the outside', () => {
  const chromium = useBrowser();
  /** The DTMF events rtpengine saw (its `dtmf-log-dest` datagrams), in order. */
  const dtmf: { callid: string; source_tag: string; event: number }[] = [];
  const dtmfLog = createSocket('udp4');
  before(async () => {
    dtmfLog.on('message', (datagram) => dtmf.push(JSON.parse(datagram.toString()) as (typeof dtmf)[number]));
    await new Promise<void>((resolve) => dtmfLog.bind(stack.sip.dtmfLogPort, '127.0.0.1', () => resolve()));
  });
  after(() => dtmfLog.close());

  async function bobInTheBrowser(): Promise<Softphone> {
    const softphone = await signIn(chromium.browser, tenant.users.bob);
    chromium.phones.push(softphone);
    return softphone;
  }

  async function dial(softphone: Softphone, number: string): Promise<void> {
    await softphone.page.locator('#dial-number').fill(number);
    await softphone.page.locator('[data-testid=dial-button]').click();
  }

  test('bob dials a number in the browser: the carrier gets it in E.164 with his own number as caller ID; audio reaches the carrier and comes back; keypad digits reach it as telephone-events; his hang-up ends it with a complete record', async () => {
    const carrierA = await startSipp({
      scenario: join(scenarios, 'uas.xml'),
      target: { host: '127.0.0.1', port: 9 },
      localIp: stack.carriers[0]!.host,
      localPort: stack.carriers[0]!.port,
      rtpEcho: true,
      recvTimeoutMs: 30_000,
      timeoutSeconds: 60,
    });
    const bob = await bobInTheBrowser();
    await dial(bob, '020 7946 0958');
    await waitForState(bob, 'active');
    assert.equal(await bob.page.locator('[data-testid=call-status]').getAttribute('data-state'), 'active');
    // SIPp echoes what it receives: packets come back only if the carrier got them.
    await browserEventually('audio to the carrier and back', async () => {
      const stats = await mediaStats(bob);
      return stats.audioPacketsSent >= 50 && stats.audioPacketsReceived >= 50;
    });
    const callId = await callState(bob).getAttribute('data-call-id');
    // The carrier's IVR asks for a digit: the keypad's RFC 4733 events cross rtpengine on this call's carrier leg.
    await bob.page.locator('[data-testid=keypad-toggle]').click();
    for (const digit of ['1', '2', '#']) await bob.page.locator(`[data-testid="key-${digit}"]`).click();
    // rtpengine logs each event from the side it came from: the browser's, then the carrier's echo.
    const fromBrowser = () => {
      const onCall = dtmf.filter((event) => event.callid.endsWith(`:${callId}`));
      return onCall.filter((event) => event.source_tag === onCall[0]?.source_tag).map((event) => event.event);
    };
    await browserEventually('three DTMF events on the call', async () => fromBrowser().length >= 3);
    assert.deepEqual(fromBrowser(), [1, 2, 11]);
    await bob.page.locator('[data-testid=hangup]').click();
    const carried = await carrierA.result;
    assert.equal(carried.exitCode, 0, describeRun(carried));
    const invite = carried.received.find((message) => message.firstLine.startsWith('INVITE'))!;
    assert.match(invite.firstLine, /^INVITE sip:\+442079460958@/);
    assert.match(headerValues(invite, 'From').join(''), new RegExp(`sip:\\${ownNumber}@`));

    await eventually(async () => (await recordById(callId!))?.endedAt != null);
    const record = (await recordById(callId!))!;
    assert.deepEqual(
      [record.direction, record.destination, record.callerId, record.trunkId, record.finalStatus, record.hangupCause],
      ['outbound', '+442079460958', ownNumber, 'carrier-a', 200, 'hangup'],
    );
    assert.ok(record.durationMs > 0, JSON.stringify(record));
    await bob.context.close();
  });

  test('a number the policy closes fails in the browser with the reason, and no INVITE reaches a carrier', async () => {
    const carrierA = await carrier(0);
    const bob = await bobInTheBrowser();
    await dial(bob, '+33 1 42 68 53 00');
    const outcome = bob.page.locator('[data-testid=call-outcome]');
    await outcome.waitFor();
    assert.match((await outcome.textContent()) ?? '', /calls to FR are not open for your organisation/);
    assert.equal((await lastRecord()).refusal, 'international_closed');
    assert.equal((await carrierA.stop()).received.length, 0);
    await bob.context.close();
  });
});

describe('the limits on a call in progress', () => {
  test('the tenant’s concurrency cap refuses a second call (503, concurrency_limit, no INVITE), and the first is cut at the maximum duration', async () => {
    const capped: PstnPolicy = { ...policy, maxConcurrentCalls: 1, maxCallDurationSeconds: 60 };
    assert.equal((await api('PUT', '/api/admin/pstn/policy', { auth: adminToken, body: capped })).status, 200);
    try {
      const carrierA = await carrier(0, 'uas.xml', { recvTimeoutMs: 90_000, timeoutSeconds: 120 });
      const earlier = await lastRecord();
      const held = await phoneStarts('02079460958', { scenario: 'phone-held.xml', timeoutSeconds: 120 });
      // This call's record, not an earlier call's that was answered too.
      await eventually(async () => {
        const latest = await lastRecord();
        return latest.callId !== earlier?.callId && latest.answeredAt !== null;
      });
      const first = await lastRecord();

      // Another person of the tenant: the tenant's cap, not bob's own, refuses it.
      const second = await phoneDials('02079460959', { user: tenant.users.carol });
      const final = finalResponse(second);
      assert.equal(final?.status, 503, describeRun(second));
      assert.match(headerValues(final!, 'Reason').join(''), /concurrency_limit/);
      assert.equal((await lastRecord()).refusal, 'concurrency_limit');

      // The edge's maximum: the gateway hangs up both sides (each got a BYE and answered it).
      const [phone, carried] = [await held.result, await carrierA.result];
      assert.equal(phone.exitCode, 0, describeRun(phone));
      assert.equal(carried.exitCode, 0, describeRun(carried));
      await eventually(async () => (await recordById(first.callId))?.endedAt != null);
      const record = (await recordById(first.callId))!;
      assert.equal(record.hangupCause, 'max_duration');
      assert.ok(record.durationMs >= 59_000 && record.durationMs < 90_000, `cut after ${record.durationMs} ms`);
    } finally {
      await api('PUT', '/api/admin/pstn/policy', { auth: adminToken, body: policy });
    }
  });
});

async function recordById(callId: string) {
  const answer = await api<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=20', { auth: adminToken });
  return answer.body.calls.find((call) => call.callId === callId);
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
