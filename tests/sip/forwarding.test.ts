/**
 * A number that forwards to another number, through the whole SIP edge: a carrier (SIPp, on the
 * first trunk's address) calls it, and the call goes back out through the trunks to the carrier
 * that answers for the number it forwards to (SIPp on the same trunk), the media anchored in
 * rtpengine both ways, the caller's number passed on, the caller's hang-up bridged.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from 'rtpengine-client';
import type { PhoneNumberView, PstnCallRecordList, PstnPolicy } from '@callstack/protocol';
import { CARRIER_TAG, PHONE_TAG } from '../../sip-edge/src/MediaAnchor.ts';
import { eventually } from '../lib/browser.ts';
import { api, createTenant, login } from '../lib/fixtures.ts';
import { headerValues, startSipp } from '../lib/sipp.ts';
import { stack } from '../lib/stack.ts';

const scenarios = join(fileURLToPath(new URL('.', import.meta.url)), 'scenarios');
const caller = '+442079460188';
const target = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
let adminToken: string;
let did: string;

before(async () => {
  const tenant = await createTenant();
  adminToken = (await login(tenant.users.alice)).accessToken;
  // A new organisation calls within the US only: this one is British.
  const policy = (await api<PstnPolicy>('GET', '/api/admin/pstn/policy', { auth: adminToken })).body;
  assert.equal((await api('PUT', '/api/admin/pstn/policy', { auth: adminToken, body: { ...policy, defaultCountry: 'GB' } })).status, 200);
  did = `+44207946${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  const added = await api<PhoneNumberView>('POST', '/api/admin/numbers', {
    auth: adminToken,
    body: { number: did, route: { kind: 'number', number: target } },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
});

/** Packets rtpengine received on the forwarded call's session from each side; null without one. */
async function packets(): Promise<{ fromCaller: number; fromTarget: number } | null> {
  const client = new Client({ timeout: 2_000 });
  try {
    const ng = [stack.sip.rtpengineNgPort, '127.0.0.1'] as const;
    const callId = ((await client.list(...ng, { limit: 100 })).calls as string[] | undefined)?.find((id) => id.startsWith('pstn:'));
    if (!callId) return null;
    const query = (await client.query(...ng, { 'call-id': callId })) as {
      tags?: Record<string, { medias?: { type: string; streams?: { stats?: { packets?: number } }[] }[] }>;
    };
    const of = (tag: string) =>
      (query.tags?.[tag]?.medias ?? [])
        .filter((media) => media.type === 'audio')
        .flatMap((media) => media.streams ?? [])
        .reduce((sum, stream) => sum + (stream.stats?.packets ?? 0), 0);
    return { fromCaller: of(PHONE_TAG), fromTarget: of(CARRIER_TAG) };
  } finally {
    client.close();
  }
}

test('a carrier’s call to a forwarding number reaches the number it forwards to, with the caller’s number; audio flows both ways; the caller’s hang-up ends both', async () => {
  const { host, port } = stack.carriers[0]!;
  const answering = await startSipp({
    scenario: join(scenarios, 'uas.xml'),
    target: { host: '127.0.0.1', port: 9 },
    localIp: host,
    localPort: port,
    rtpEcho: true,
    recvTimeoutMs: 20_000,
  });
  const calling = await startSipp({
    scenario: join(scenarios, 'carrier-hangs-up.xml'),
    target: { host: stack.sip.host, port: stack.sip.port },
    localIp: host,
    service: did,
    keys: { caller },
    pauseMs: 4_000,
    recvTimeoutMs: 20_000,
  });
  let seen = { fromCaller: 0, fromTarget: 0 };
  await eventually('audio both ways through rtpengine', async () => {
    seen = (await packets()) ?? seen;
    return seen.fromCaller >= 50 && seen.fromTarget >= 50;
  });
  const [called, answered] = [await calling.result, await answering.result];
  assert.equal(called.exitCode, 0, called.output.slice(-1500));
  assert.equal(answered.exitCode, 0, answered.output.slice(-1500));
  const invite = answered.received.find((message) => message.firstLine.startsWith('INVITE'))!;
  assert.match(invite.firstLine, new RegExp(`^INVITE sip:\\${target}@`));
  assert.match(headerValues(invite, 'P-Asserted-Identity').join(''), new RegExp(`\\${caller}`));
  assert.ok(
    answered.received.some((message) => message.firstLine.startsWith('BYE')),
    'the caller’s BYE reached the number it was forwarded to',
  );

  await eventually('the record complete', async () => {
    const [record] = (await api<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=1', { auth: adminToken })).body.calls;
    return record?.endedAt != null;
  });
  const [record] = (await api<PstnCallRecordList>('GET', '/api/admin/pstn/calls?limit=1', { auth: adminToken })).body.calls;
  assert.deepEqual(
    [record?.direction, record?.did, record?.destination, record?.callerId, record?.trunkId, record?.finalStatus, record?.hangupCause],
    ['inbound', did, target, caller, stack.carriers[0]!.id, 200, 'caller'],
  );
  assert.ok(record!.durationMs >= 3_000, JSON.stringify(record));
});
