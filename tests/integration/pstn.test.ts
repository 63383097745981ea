/**
 * Numbers, the calling policy and the edge's decisions on calls to the outside, against the real
 * edge and PostgreSQL: the admin console's REST routes (who may change what, another tenant's
 * numbers), the gateway's `route` for dialled numbers (E.164, trunks in failover order, caller ID,
 * every refusal of the toll-fraud guard with its reason and SIP status), the limits over
 * concurrent calls (freed by the gateway's `ended`), the admins' alert, and the records; and calls
 * from the outside: which addresses are trunks, whom a number rings, what its line may place.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  ErrorBody,
  PhoneNumberList,
  PhoneNumberView,
  PstnCallRecordList,
  PstnCallEvent,
  PstnPolicy,
  RefusedRouteAnswer,
  ServerMessage,
  SipInboundAnswer,
  SipInboundForwardRoute,
  SipInboundRequest,
  SipInboundUserRoute,
  RingGroupList,
  RingGroupView,
  SipRouteAnswer,
  TrunkAddresses,
  VoicemailList,
} from '@callstack/protocol';
import { demoSipCredentials } from '../../edge/scripts/seed.ts';
import { api, createTenant, login, waitForMail, type TestTenant, type TestUser } from '../lib/fixtures.ts';
import { SignalingClient } from '../lib/SignalingClient.ts';
import { SipGatewayStub } from '../lib/SipGatewayStub.ts';
import { stack } from '../lib/stack.ts';

let gateway: SipGatewayStub;
let tenant: TestTenant;
let other: TestTenant;
const tokens = new Map<TestUser, string>();

before(async () => {
  gateway = await SipGatewayStub.start(stack.url, stack.mediaSecret);
  [tenant, other] = await Promise.all([createTenant(), createTenant()]);
});
after(async () => {
  await gateway.close();
});

async function tokenOf(user: TestUser): Promise<string> {
  if (!tokens.has(user)) tokens.set(user, (await login(user)).accessToken);
  return tokens.get(user)!;
}

async function as<T>(user: TestUser, method: string, path: string, body?: unknown) {
  return api<T>(method, path, { auth: await tokenOf(user), body });
}

function assertError(answer: { status: number; body: unknown }, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal((answer.body as ErrorBody).error.code, code);
}

const ukPolicy: PstnPolicy = {
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

/** A number of its own per test run: numbers are unique on the whole platform. */
function freshNumber({ international = false } = {}): string {
  const local = `7946 ${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  return international ? `+44 20 ${local}` : `020 ${local}`;
}

async function dial(user: TestUser, target: string) {
  return gateway.route(demoSipCredentials(user).username, target) as Promise<{ status: number; body: Exclude<SipRouteAnswer, { kind: 'user' }> }>;
}

async function report(event: PstnCallEvent) {
  return gateway.post('/api/sip/pstn/events', { node: gateway.node, event });
}

async function records(user: TestUser) {
  return (await as<PstnCallRecordList>(user, 'GET', '/api/admin/pstn/calls?limit=200')).body.calls;
}

describe('numbers and the calling policy', () => {
  test('a new organisation calls domestically in the US only, with tight limits', async () => {
    const answer = await as<PstnPolicy>(tenant.users.carol, 'GET', '/api/admin/pstn/policy');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.defaultCountry, 'US');
    assert.deepEqual(answer.body.internationalCountries, []);
    assert.ok(answer.body.maxConcurrentCalls <= 10);
  });

  test('only admins change the policy and the numbers; operators see them; users neither', async () => {
    const { alice, bob, carol } = tenant.users;
    assertError(await as(bob, 'GET', '/api/admin/pstn/policy'), 403, 'forbidden');
    assertError(await as(carol, 'PUT', '/api/admin/pstn/policy', ukPolicy), 403, 'forbidden');
    assertError(await as(carol, 'POST', '/api/admin/numbers', { number: freshNumber() }), 403, 'forbidden');
    assertError(await as(bob, 'GET', '/api/admin/numbers'), 403, 'forbidden');
    const saved = await as<PstnPolicy>(alice, 'PUT', '/api/admin/pstn/policy', { ...ukPolicy, internationalCountries: ['GB', 'FR', 'FR'] });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    // The organisation's own country and duplicates are dropped.
    assert.deepEqual(saved.body.internationalCountries, ['FR']);
    assert.deepEqual((await as<PstnPolicy>(carol, 'GET', '/api/admin/pstn/policy')).body, saved.body);
    assert.equal((await as(carol, 'GET', '/api/admin/numbers')).status, 200);
    await as(alice, 'PUT', '/api/admin/pstn/policy', ukPolicy);
  });

  test('bad policies are refused with the field named', async () => {
    for (const bad of [
      { ...ukPolicy, defaultCountry: 'gb' },
      { ...ukPolicy, internationalCountries: ['France'] },
      { ...ukPolicy, allowedPrefixes: ['44'] },
      { ...ukPolicy, maxConcurrentCalls: -1 },
      { ...ukPolicy, maxCallDurationSeconds: 10 },
      { ...ukPolicy, mainNumber: '07946 0958' },
      { ...ukPolicy, extra: true, maxCallsPerSecond: 'fast' },
    ]) {
      assertError(await as(tenant.users.alice, 'PUT', '/api/admin/pstn/policy', bad), 400, 'bad_request');
    }
    // A main number must be one of the organisation's: nobody presents somebody else's.
    const notOurs = await as(tenant.users.alice, 'PUT', '/api/admin/pstn/policy', { ...ukPolicy, mainNumber: '+442079460999' });
    assertError(notOurs, 400, 'bad_request');
    assert.match((notOurs.body as ErrorBody).error.message, /mainNumber/);
  });

  test('an admin adds numbers as the carrier writes them, routes them, and removes them', async () => {
    const { alice, bob } = tenant.users;
    const typed = freshNumber();
    const added = await as<PhoneNumberView>(alice, 'POST', '/api/admin/numbers', { number: typed, label: 'Sales', route: { kind: 'user', userId: bob.id } });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const e164 = `+4420${typed.replace(/\D/g, '').slice(3)}`;
    assert.equal(added.body.number, e164);
    assert.deepEqual(added.body.route, { kind: 'user', userId: bob.id });
    assertError(await as(alice, 'POST', '/api/admin/numbers', { number: e164 }), 409, 'conflict');
    assertError(await as(alice, 'POST', '/api/admin/numbers', { number: 'call me' }), 400, 'bad_request');
    assertError(
      await as(alice, 'POST', '/api/admin/numbers', { number: freshNumber(), route: { kind: 'user', userId: other.users.bob.id } }),
      404,
      'not_found',
    );

    const moved = await as<PhoneNumberView>(alice, 'PATCH', `/api/admin/numbers/${encodeURIComponent(e164)}`, {
      route: { kind: 'number', number: '+442079460111' },
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(moved.body.route, { kind: 'number', number: '+442079460111' });
    assert.equal(moved.body.label, 'Sales');
    assertError(await as(alice, 'PATCH', `/api/admin/numbers/${encodeURIComponent(e164)}`, { route: { kind: 'number', number: e164 } }), 400, 'bad_request');

    // The main number cannot go while it is the main number.
    assert.equal((await as(alice, 'PUT', '/api/admin/pstn/policy', { ...ukPolicy, mainNumber: e164 })).status, 200);
    assertError(await as(alice, 'DELETE', `/api/admin/numbers/${encodeURIComponent(e164)}`), 409, 'conflict');
    await as(alice, 'PUT', '/api/admin/pstn/policy', ukPolicy);
    assert.equal((await as(alice, 'DELETE', `/api/admin/numbers/${encodeURIComponent(e164)}`)).status, 204);
    assertError(await as(alice, 'DELETE', `/api/admin/numbers/${encodeURIComponent(e164)}`), 404, 'not_found');
  });

  test("another organisation's number is invisible and untouchable, and cannot be taken", async () => {
    // Their policy is the default (the US): a UK number is written with its +44.
    const theirs = await as<PhoneNumberView>(other.users.alice, 'POST', '/api/admin/numbers', { number: freshNumber({ international: true }) });
    assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
    const path = `/api/admin/numbers/${encodeURIComponent(theirs.body.number)}`;
    const list = await as<PhoneNumberList>(tenant.users.alice, 'GET', '/api/admin/numbers');
    assert.ok(!list.body.numbers.some((number) => number.number === theirs.body.number));
    assertError(await as(tenant.users.alice, 'PATCH', path, { label: 'mine now' }), 404, 'not_found');
    assertError(await as(tenant.users.alice, 'DELETE', path), 404, 'not_found');
    assertError(await as(tenant.users.alice, 'POST', '/api/admin/numbers', { number: theirs.body.number }), 409, 'conflict');
    const unchanged = await as<PhoneNumberList>(other.users.alice, 'GET', '/api/admin/numbers');
    assert.equal(unchanged.body.numbers.find((number) => number.number === theirs.body.number)?.label, '');
  });
});

describe('calls to the outside: the edge decides', () => {
  test('a domestic number goes to the trunks in order, with the caller’s own number as caller ID', async () => {
    const { alice } = tenant.users;
    const own = await as<PhoneNumberView>(alice, 'POST', '/api/admin/numbers', { number: freshNumber(), route: { kind: 'user', userId: alice.id } });
    const answer = await dial(alice, '020 7946 0958');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.kind, 'pstn');
    if (answer.body.kind !== 'pstn') return;
    assert.equal(answer.body.destination, '+442079460958');
    assert.deepEqual(answer.body.callerId, { number: own.body.number, name: alice.displayName, withheld: false });
    assert.equal(answer.body.maxDurationSeconds, ukPolicy.maxCallDurationSeconds);
    assert.deepEqual(
      answer.body.trunks.map((trunk) => [trunk.id, trunk.dial, trunk.callerIdNumber]),
      stack.carriers.map((carrier) => [carrier.id, '+442079460958', own.body.number]),
    );
    assert.equal(answer.body.caller.userId, alice.id);
    const record = (await records(alice)).find((call) => call.callId === answer.body.callId);
    assert.ok(record, 'the admitted call has a record');
    assert.equal(record.destination, '+442079460958');
    assert.equal(record.refusal, null);
    assert.equal(record.callerId, own.body.number);
    assert.equal(
      (await report({ event: 'ended', callId: answer.body.callId, tenantId: tenant.id, at: Date.now(), finalStatus: 487, hangupCause: 'cancelled' })).status,
      200,
    );
  });

  test('international is closed until the country is opened; premium ranges stay closed unless their prefix is', async () => {
    const { alice, bob } = tenant.users;
    const paris = await dial(bob, '+33 1 42 68 53 00');
    assert.deepEqual(paris.body.kind === 'refused' && { reason: paris.body.reason, sipStatus: paris.body.sipStatus }, {
      reason: 'international_closed',
      sipStatus: 403,
    });
    const premium = await dial(bob, '0909 879 0000');
    assert.deepEqual(premium.body.kind === 'refused' && [premium.body.reason, premium.body.sipStatus], ['premium_blocked', 403]);
    const satellite = await dial(bob, '+881 6 1234 5678');
    assert.deepEqual(satellite.body.kind === 'refused' && satellite.body.reason, 'premium_blocked');

    await as(alice, 'PUT', '/api/admin/pstn/policy', { ...ukPolicy, internationalCountries: ['FR'], allowedPrefixes: ['+44909'] });
    const opened = [await dial(bob, '+33 1 42 68 53 00'), await dial(bob, '0909 879 0000')];
    for (const answer of opened) {
      assert.equal(answer.body.kind, 'pstn', JSON.stringify(answer.body));
      await report({ event: 'ended', callId: answer.body.callId, tenantId: tenant.id, at: Date.now(), finalStatus: 486, hangupCause: 'declined' });
    }
    assert.equal((await dial(bob, '+49 30 901820')).body.kind, 'refused');
    await as(alice, 'PUT', '/api/admin/pstn/policy', ukPolicy);

    // Every refusal is in the records with its reason, and no trunk was tried for it.
    const refusals = (await records(alice)).filter((call) => call.callId === paris.body.callId || call.callId === premium.body.callId);
    assert.deepEqual(refusals.map((call) => [call.refusal, call.trunkId, call.durationMs]).sort(), [
      ['international_closed', null, 0],
      ['premium_blocked', null, 0],
    ]);
  });

  test('what is no phone number is not found, the same as an unknown colleague', async () => {
    for (const target of ['0000', '911', '+44', '12']) {
      const answer = await dial(tenant.users.bob, target);
      assert.equal(answer.status, 404, `${target}: ${JSON.stringify(answer.body)}`);
    }
  });

  test('the per-person and per-organisation limits refuse the call over them, an end frees the slot, and the admins hear of it once', async () => {
    const { alice, bob, dave } = tenant.users;
    await as(alice, 'PUT', '/api/admin/pstn/policy', { ...ukPolicy, maxConcurrentCallsPerUser: 1, maxConcurrentCalls: 2 });
    const first = await dial(bob, '020 7946 0958');
    assert.equal(first.body.kind, 'pstn');
    const second = await dial(bob, '020 7946 0959');
    assert.deepEqual(second.body.kind === 'refused' && [second.body.reason, second.body.sipStatus], ['concurrency_limit', 486]);
    const dave1 = await dial(dave, '020 7946 0960');
    assert.equal(dave1.body.kind, 'pstn');
    const alice1 = await dial(alice, '020 7946 0961');
    assert.deepEqual(alice1.body.kind === 'refused' && [alice1.body.reason, alice1.body.sipStatus], ['concurrency_limit', 503]);
    const mail = await waitForMail(alice.email);
    assert.match(mail.at(-1)!.subject, /limit/);
    assert.equal(
      (await waitForMail(alice.email)).filter((message) => /limit/.test(message.subject)).length,
      1,
      'two refusals by the same limit within the hour: one alert',
    );

    // The gateway's progress fills the record; its end frees the slot.
    const callId = first.body.callId;
    const started = Date.now();
    assert.equal((await report({ event: 'trunk', callId, tenantId: tenant.id, trunkId: 'carrier-b' })).status, 200);
    assert.equal((await report({ event: 'ringing', callId, tenantId: tenant.id, at: started + 150 })).status, 200);
    assert.equal((await report({ event: 'answered', callId, tenantId: tenant.id, at: started + 2_000 })).status, 200);
    assert.equal((await report({ event: 'ended', callId, tenantId: tenant.id, at: started + 12_000, finalStatus: 200, hangupCause: 'callee' })).status, 200);
    // Told twice, or about another organisation's call: nothing changes.
    assert.equal((await report({ event: 'ended', callId, tenantId: tenant.id, at: started + 99_000, finalStatus: 200, hangupCause: 'caller' })).status, 404);
    assert.equal(
      (await report({ event: 'ended', callId: dave1.body.callId, tenantId: other.id, at: started, finalStatus: 200, hangupCause: 'caller' })).status,
      404,
    );
    const record = (await records(alice)).find((call) => call.callId === callId)!;
    assert.deepEqual(
      [record.trunkId, record.postDialDelayMs, record.durationMs, record.finalStatus, record.hangupCause],
      ['carrier-b', record.postDialDelayMs, 10_000, 200, 'callee'],
    );
    assert.ok(record.postDialDelayMs !== null && record.postDialDelayMs >= 0);
    assert.equal((await dial(bob, '020 7946 0959')).body.kind, 'pstn');
    await as(alice, 'PUT', '/api/admin/pstn/policy', ukPolicy);
  });

  test('the gateway’s events are checked like every node request', async () => {
    const event = { event: 'ended', callId: crypto.randomUUID(), tenantId: tenant.id, at: Date.now(), finalStatus: 200, hangupCause: 'caller' };
    assert.equal((await gateway.post('/api/sip/pstn/events', { node: gateway.node, event }, { secret: 'not-the-secret-at-all' })).status, 401);
    assert.equal((await gateway.post('/api/sip/pstn/events', { node: gateway.node, event: { ...event, hangupCause: 'bored' } })).status, 400);
    assert.equal((await gateway.post('/api/sip/pstn/events', { node: gateway.node, event })).status, 404);
  });
});

describe('my caller ID', () => {
  test('a person withholds their number: their view says so, the edge asks the carrier to hide it, and showing it again undoes that; only for themselves', async () => {
    const { carol } = tenant.users;
    const own = await as<PhoneNumberView>(tenant.users.alice, 'POST', '/api/admin/numbers', {
      number: freshNumber(),
      route: { kind: 'user', userId: carol.id },
    });
    assert.deepEqual((await as(carol, 'GET', '/api/me/caller-id')).body, { number: own.body.number, withheld: false });
    assert.deepEqual((await as(carol, 'PUT', '/api/me/caller-id', { withheld: true })).body, { number: own.body.number, withheld: true });
    const hidden = await dial(carol, '020 7946 0958');
    assert.equal(hidden.body.kind, 'pstn', JSON.stringify(hidden.body));
    if (hidden.body.kind === 'pstn') assert.equal(hidden.body.callerId.withheld, true);
    // The others' choice is theirs.
    assert.equal((await as<{ withheld: boolean }>(tenant.users.bob, 'GET', '/api/me/caller-id')).body.withheld, false);
    for (const bad of [{}, { withheld: 'yes' }, { withheld: null }]) {
      assertError(await as(carol, 'PUT', '/api/me/caller-id', bad), 400, 'bad_request');
    }
    assert.deepEqual((await as(carol, 'PUT', '/api/me/caller-id', { withheld: false })).body, { number: own.body.number, withheld: false });
    const shown = await dial(carol, '020 7946 0958');
    if (shown.body.kind === 'pstn') assert.equal(shown.body.callerId.withheld, false);
    for (const answer of [hidden, shown]) {
      if (answer.body.kind === 'pstn')
        await report({ event: 'ended', callId: answer.body.callId, tenantId: tenant.id, at: Date.now(), finalStatus: 487, hangupCause: 'cancelled' });
    }
  });
});

describe('calls from the outside, as the gateway asks', () => {
  const [carrier] = stack.carriers;
  const caller = '+442079460123';
  let number: string;

  before(async () => {
    const added = await as<PhoneNumberView>(tenant.users.alice, 'POST', '/api/admin/numbers', {
      number: freshNumber({ international: true }),
      route: { kind: 'user', userId: tenant.users.bob.id },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    number = added.body.number;
  });

  function inbound(overrides: Partial<SipInboundRequest> = {}) {
    return gateway.post<SipInboundAnswer>('/api/sip/pstn/inbound', {
      node: gateway.node,
      trunkId: carrier!.id,
      source: carrier!.host,
      from: caller,
      to: number,
      ...overrides,
    } satisfies SipInboundRequest);
  }

  async function recordOf(callId: string) {
    const list = await as<PstnCallRecordList>(tenant.users.alice, 'GET', '/api/admin/pstn/calls?limit=100');
    return list.body.calls.find((call) => call.callId === callId);
  }

  test('the gateway learns the addresses each trunk sends from, and nothing else of the trunks (no credentials)', async () => {
    const list = await gateway.post<TrunkAddresses>('/api/sip/trunks', { node: gateway.node });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { trunks: stack.carriers.map(({ id, host }) => ({ id, addresses: [host] })) });
    assert.equal((await gateway.post('/api/sip/trunks', { node: gateway.node }, { secret: 'not-the-secret-at-all' })).status, 401);
  });

  test('a call that claims a trunk from another address, or dials a number nobody has, is refused and leaves no record', async () => {
    const spoofed = await inbound({ source: '127.0.0.99' });
    assert.equal(spoofed.status, 200);
    assert.deepEqual([spoofed.body.kind, (spoofed.body as RefusedRouteAnswer).sipStatus], ['refused', 403]);
    const nobody = await inbound({ to: '+442079469999' });
    assert.deepEqual([nobody.body.kind, (nobody.body as RefusedRouteAnswer).sipStatus], ['refused', 404]);
    for (const answer of [spoofed, nobody]) assert.equal(await recordOf(answer.body.callId), undefined);
  });

  test('a number routed nowhere is refused as not in service, with a record for the admin', async () => {
    const unrouted = await as<PhoneNumberView>(tenant.users.alice, 'POST', '/api/admin/numbers', { number: freshNumber() });
    const answer = await inbound({ to: unrouted.body.number });
    assert.deepEqual([answer.body.kind, (answer.body as RefusedRouteAnswer).reason], ['refused', 'not_in_service']);
    const record = await recordOf(answer.body.callId);
    assert.deepEqual([record?.direction, record?.refusal, record?.did, record?.callerId], ['inbound', 'not_in_service', unrouted.body.number, caller]);
  });

  test('a number that forwards to another goes back out through the trunks with the caller’s number; a closed destination stays closed', async () => {
    const target = freshNumber({ international: true }).replaceAll(' ', '');
    const forwarding = await as<PhoneNumberView>(tenant.users.alice, 'POST', '/api/admin/numbers', {
      number: freshNumber({ international: true }),
      route: { kind: 'number', number: target },
    });
    assert.equal(forwarding.status, 201, JSON.stringify(forwarding.body));
    const answer = await inbound({ to: forwarding.body.number });
    assert.equal(answer.body.kind, 'forward', JSON.stringify(answer.body));
    const forward = answer.body as SipInboundForwardRoute;
    assert.match(forward.line.deviceId, /^pstn-/);
    assert.deepEqual(
      [forward.destination, forward.callerId, forward.trunks.map((trunk) => trunk.id)],
      [target, { number: caller, name: '', withheld: false }, stack.carriers.map((c) => c.id)],
    );
    const opened = await recordOf(forward.callId);
    assert.deepEqual(
      [opened?.direction, opened?.did, opened?.destination, opened?.callerId, opened?.userId],
      ['inbound', forwarding.body.number, target, caller, null],
    );
    const at = Date.now();
    assert.equal((await report({ event: 'answered', callId: forward.callId, tenantId: tenant.id, at })).status, 200);
    assert.equal(
      (await report({ event: 'ended', callId: forward.callId, tenantId: tenant.id, at: at + 3_000, finalStatus: 200, hangupCause: 'caller' })).status,
      200,
    );
    assert.deepEqual([(await recordOf(forward.callId))?.finalStatus, (await recordOf(forward.callId))?.durationMs], [200, 3_000]);

    // Forwarding to one of the platform's numbers (its own, another tenant's) is refused: through the carrier it could loop.
    for (const target of [number, forwarding.body.number])
      assertError(
        await as(tenant.users.alice, 'PATCH', `/api/admin/numbers/${encodeURIComponent(forwarding.body.number)}`, {
          route: { kind: 'number', number: target },
        }),
        400,
        'bad_request',
      );

    // Forwarded abroad while international calling is closed: the caller is refused, and no trunk is offered.
    const abroad = await as<PhoneNumberView>(tenant.users.alice, 'PATCH', `/api/admin/numbers/${encodeURIComponent(forwarding.body.number)}`, {
      route: { kind: 'number', number: '+33142685300' },
    });
    assert.equal(abroad.status, 200, JSON.stringify(abroad.body));
    const refused = await inbound({ to: forwarding.body.number });
    assert.deepEqual(
      [refused.body.kind, (refused.body as RefusedRouteAnswer).reason, (refused.body as RefusedRouteAnswer).sipStatus],
      ['refused', 'international_closed', 403],
    );
    assert.equal((await recordOf(refused.body.callId))?.refusal, 'international_closed');
  });

  test('ring groups: admins make them of their own people only; a group a number rings cannot be removed', async () => {
    const { alice, bob, carol } = tenant.users;
    assertError(await as(carol, 'POST', '/api/admin/ring-groups', { name: 'Sales', members: [bob.id] }), 403, 'forbidden');
    assertError(await as(alice, 'POST', '/api/admin/ring-groups', { name: 'Sales', members: [bob.id, other.users.bob.id] }), 404, 'not_found');
    for (const bad of [
      { name: 'Sales', members: [] },
      { name: 'Sales', members: [bob.id, bob.id] },
      { name: '', members: [bob.id] },
      { name: 'Sales', members: [bob.id], memberTimeoutSeconds: 2 },
    ])
      assertError(await as(alice, 'POST', '/api/admin/ring-groups', bad), 400, 'bad_request');
    const created = await as<RingGroupView>(alice, 'POST', '/api/admin/ring-groups', { name: 'Sales', members: [bob.id, carol.id] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual([created.body.strategy, created.body.memberTimeoutSeconds], ['simultaneous', 20]);
    assert.deepEqual(
      (await as<RingGroupList>(carol, 'GET', '/api/admin/ring-groups')).body.groups.map((group) => group.id),
      [created.body.id],
    );
    assert.deepEqual((await as<RingGroupList>(other.users.alice, 'GET', '/api/admin/ring-groups')).body.groups, []);
    assertError(await as(other.users.alice, 'PATCH', `/api/admin/ring-groups/${created.body.id}`, { name: 'Mine' }), 404, 'not_found');
    assertError(
      await as(other.users.alice, 'POST', '/api/admin/numbers', {
        number: freshNumber({ international: true }),
        route: { kind: 'group', groupId: created.body.id },
      }),
      404,
      'not_found',
    );
    const routed = await as<PhoneNumberView>(alice, 'POST', '/api/admin/numbers', {
      number: freshNumber(),
      route: { kind: 'group', groupId: created.body.id },
    });
    assert.equal(routed.status, 201, JSON.stringify(routed.body));
    assertError(await as(alice, 'DELETE', `/api/admin/ring-groups/${created.body.id}`), 409, 'conflict');
    assert.equal((await as(alice, 'PATCH', `/api/admin/numbers/${encodeURIComponent(routed.body.number)}`, { route: { kind: 'none' } })).status, 200);
    assert.equal((await as(alice, 'DELETE', `/api/admin/ring-groups/${created.body.id}`)).status, 204);
  });

  test('a number that rings a group: everyone at once, the first to answer takes it; or one after another, each for the member timeout', async () => {
    const { alice, bob, carol } = tenant.users;
    const [bobDesk, carolDesk] = await Promise.all([
      SignalingClient.connect(stack.url, await tokenOf(bob)),
      SignalingClient.connect(stack.url, await tokenOf(carol)),
    ]);
    try {
      for (const strategy of ['simultaneous', 'in-order'] as const) {
        const group = await as<RingGroupView>(alice, 'POST', '/api/admin/ring-groups', {
          name: `Support ${strategy}`,
          strategy,
          memberTimeoutSeconds: 5,
          members: [bob.id, carol.id],
        });
        const routed = await as<PhoneNumberView>(alice, 'POST', '/api/admin/numbers', {
          number: freshNumber({ international: true }),
          route: { kind: 'group', groupId: group.body.id },
        });
        const answer = await inbound({ to: routed.body.number });
        assert.equal(answer.body.kind, 'user', JSON.stringify(answer.body));
        const { callId, line, callee } = answer.body as SipInboundUserRoute;
        assert.equal(callee.userId, bob.id, 'the first member is the one the line calls');
        const placed = await gateway.message(line, { type: 'call.invite', ref: 'place', callId, to: callee.userId, media: { audio: true, video: false } });
        assert.deepEqual(placed.body, { type: 'ack', ref: 'place' });
        await bobDesk.next('call.incoming', (message) => message.callId === callId);
        if (strategy === 'simultaneous') {
          // Carol rings at the same time and answers first: bob stops ringing.
          await carolDesk.next('call.incoming', (message) => message.callId === callId, 2_000);
          assert.equal((await carolDesk.request({ type: 'call.accept', ref: 'take', callId })).type, 'ack');
          assert.equal((await bobDesk.next('call.ended', (message) => message.callId === callId)).reason, 'answered-elsewhere');
        } else {
          // Only bob rings; carol's turn comes after his 5 s.
          await assert.rejects(carolDesk.next('call.incoming', (message) => message.callId === callId, 2_000));
          assert.equal((await bobDesk.next('call.ended', (message) => message.callId === callId, 10_000)).reason, 'no-answer');
          await carolDesk.next('call.incoming', (message) => message.callId === callId, 5_000);
          assert.equal((await carolDesk.request({ type: 'call.accept', ref: 'take', callId })).type, 'ack');
        }
        const accepted = await gateway.next(line.deviceId, 'call.accepted', (message) => message.callId === callId);
        assert.equal(accepted.peer.userId, carol.id);
        assert.equal((await gateway.message(line, { type: 'call.hangup', ref: 'bye', callId })).body.type, 'ack');
        await carolDesk.next('call.ended', (message) => message.callId === callId);
        let record;
        for (let tries = 0; tries < 50 && !record?.endedAt; tries++) {
          record = await recordOf(callId);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.deepEqual([record?.userId, record?.finalStatus], [carol.id, 200], 'the record names who answered');
      }
    } finally {
      await Promise.all([bobDesk.close(), carolDesk.close()]);
    }
  });

  test('the tenant’s concurrent calls full: a carrier’s call gets busy (486) with the reason, and the admins see it in the records', async () => {
    assert.equal((await as(tenant.users.alice, 'PUT', '/api/admin/pstn/policy', { ...ukPolicy, maxConcurrentCalls: 0 })).status, 200);
    try {
      const answer = await inbound();
      assert.deepEqual(
        [answer.body.kind, (answer.body as RefusedRouteAnswer).reason, (answer.body as RefusedRouteAnswer).sipStatus],
        ['refused', 'concurrency_limit', 486],
      );
      assert.equal((await recordOf(answer.body.callId))?.refusal, 'concurrency_limit');
    } finally {
      await as(tenant.users.alice, 'PUT', '/api/admin/pstn/policy', ukPolicy);
    }
  });

  test('a call to bob’s number: the line may place only that call, to bob, once; bob is offline, so the caller is sent to voicemail and the gateway completes the record', async () => {
    const answer = await inbound({ from: caller.slice(1) });
    assert.equal(answer.body.kind, 'user', JSON.stringify(answer.body));
    const { callId, line, callee } = answer.body as SipInboundUserRoute;
    assert.match(line.deviceId, /^pstn-/);
    assert.equal(line.displayName, '+44 20 7946 0123');
    assert.equal(callee.userId, tenant.users.bob.id);
    const invite = (to: string, ref: string) =>
      gateway.post<ServerMessage>('/api/sip/messages', {
        node: gateway.node,
        device: line,
        message: { type: 'call.invite', ref, callId, to, media: { audio: true, video: false } },
      });
    // Not whom the edge admitted it for, nor another call of the tenant.
    assert.equal(((await invite(tenant.users.carol.id, 'wrong')).body as { code?: string }).code, 'not_found');
    const hangUpOther = await gateway.post<ServerMessage>('/api/sip/messages', {
      node: gateway.node,
      device: line,
      message: { type: 'call.hangup', ref: 'other', callId: crypto.randomUUID() },
    });
    assert.equal(hangUpOther.body.type, 'error');

    assert.deepEqual((await invite(callee.userId, 'place')).body, { type: 'ack', ref: 'place' });
    const ended = await gateway.next(line.deviceId, 'call.ended');
    assert.equal(ended.reason, 'unavailable');
    const delivery = gateway.deliveries.find((d) => d.device.deviceId === line.deviceId && d.message.type === 'call.ended');
    assert.deepEqual(delivery?.voicemail, { mailbox: tenant.users.bob.id, maxSeconds: 180 }, 'the caller leaves a message instead of hearing 480');
    assert.match(String(((await invite(callee.userId, 'again')).body as { code?: string }).code), /^(conflict|not_found)$/);
    // The record ends unanswered at once (complete even if no gateway ever reports the message)...
    let unanswered;
    for (let tries = 0; tries < 50 && !unanswered?.endedAt; tries++) {
      unanswered = await recordOf(callId);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual([unanswered?.finalStatus, unanswered?.hangupCause], [480, 'unavailable']);

    const at = Date.now();
    const message = {
      callId,
      tenantId: tenant.id,
      fileKey: `${tenant.id}/${callId}.ogg`,
      contentType: 'audio/ogg',
      startedAt: at + 6_500,
      durationMs: 4_200,
      sizeBytes: 9_000,
    };
    // The message is kept by a gateway that goes away once it reported it.
    const holder = await SipGatewayStub.start(stack.url, stack.mediaSecret);
    const left = (voicemail: unknown, secret?: string) =>
      holder.post<{ id?: string }>('/api/sip/voicemail', { node: holder.node, voicemail }, secret ? { secret } : {});
    // Another tenant's call, a file outside the call's key, a call that is no inbound call, a bad signature: nothing is filed.
    assertError(await left({ ...message, tenantId: other.id, fileKey: `${other.id}/${callId}.ogg` }), 404, 'not_found');
    assertError(await left({ ...message, fileKey: `${tenant.id}/${crypto.randomUUID()}.ogg` }), 400, 'bad_request');
    assertError(await left({ ...message, fileKey: '../../etc/passwd.ogg' }), 400, 'bad_request');
    assertError(await left({ ...message, callId: 'no-such-call', fileKey: `${tenant.id}/no-such-call.ogg` }), 404, 'not_found');
    assert.equal((await left(message, 'another-secret-entirely-0123')).status, 401);
    const filed = await left(message);
    assert.equal(filed.status, 200, JSON.stringify(filed.body));
    assert.equal((await left(message)).body.id, filed.body.id, 'a repeated report files nothing new');
    // ...and the gateway's report amends it: answered by voicemail, over with the message; once.
    assert.equal((await report({ event: 'voicemail', callId, tenantId: tenant.id, answeredAt: at, endedAt: at + 12_000 })).status, 200);
    assertError(await report({ event: 'voicemail', callId, tenantId: tenant.id, answeredAt: at, endedAt: at + 99_000 }), 404, 'not_found');
    assertError(await report({ event: 'voicemail', callId, tenantId: other.id, answeredAt: at, endedAt: at + 1_000 }), 404, 'not_found');

    const record = await recordOf(callId);
    assert.deepEqual([record?.finalStatus, record?.hangupCause, record?.callerId, record?.userId], [200, 'voicemail', caller, tenant.users.bob.id]);
    assert.equal(record!.durationMs, 12_000, JSON.stringify(record));
    const mailbox = await as<VoicemailList>(tenant.users.bob, 'GET', '/api/voicemail');
    assert.deepEqual(
      mailbox.body.voicemails.map(({ id, from, durationMs, heard }) => ({ id, from, durationMs, heard })),
      [{ id: filed.body.id, from: caller, durationMs: 4_200, heard: false }],
    );
    assert.equal((await waitForMail(tenant.users.bob.email)).filter((mail) => /voicemail/i.test(mail.subject)).length, 1, 'mailed once');
    for (const user of [tenant.users.alice, other.users.bob]) assert.deepEqual((await as<VoicemailList>(user, 'GET', '/api/voicemail')).body.voicemails, []);
    assert.equal((await as(tenant.users.bob, 'PATCH', `/api/voicemail/${filed.body.id}`, { heard: true })).status, 204);
    assert.equal((await as<VoicemailList>(tenant.users.bob, 'GET', '/api/voicemail')).body.voicemails[0]?.heard, true);
    assertError(await as(tenant.users.alice, 'PATCH', `/api/voicemail/${filed.body.id}`, { heard: true }), 404, 'not_found');
    assertError(await as(tenant.users.bob, 'PATCH', `/api/voicemail/${filed.body.id}`, { heard: 'yes' }), 400, 'bad_request');
    // Its gateway gone: the audio is unavailable, and deleting it fails with the reason and keeps it listed.
    await holder.close();
    assertError(await as(tenant.users.bob, 'GET', `/api/voicemail/${filed.body.id}/audio`), 503, 'media_unavailable');
    assertError(await as(tenant.users.bob, 'DELETE', `/api/voicemail/${filed.body.id}`), 503, 'media_unavailable');
    assert.equal((await as<VoicemailList>(tenant.users.bob, 'GET', '/api/voicemail')).body.voicemails.length, 1);
  });
});
