/**
 * Call signaling through the real edge (wrangler dev / workerd) and real PostgreSQL: the call
 * flows, every way a call can end, and the CDR each one leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTenant, login, waitForCallRecord, type TestTenant } from '../lib/fixtures.ts';
import { devicePool } from '../lib/SignalingClient.ts';
import { stack } from '../lib/stack.ts';

const { device, closeAll } = devicePool(() => stack.url, login);
after(closeAll);

const media = { audio: true, video: true };
const newCallId = () => crypto.randomUUID();

describe('a call between two users', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('rings every device, connects one, relays SDP and ICE, and leaves a CDR with the talk time', async () => {
    const alice = await device(tenant.users.alice);
    const bobPhone = await device(tenant.users.bob);
    const bobLaptop = await device(tenant.users.bob);
    const callId = newCallId();

    const invite = await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media });
    assert.equal(invite.type, 'ack');
    const ringing = await alice.next('call.ringing');
    assert.equal(ringing.to.userId, tenant.users.bob.id);
    for (const bob of [bobPhone, bobLaptop]) {
      const incoming = await bob.next('call.incoming');
      assert.equal(incoming.callId, callId);
      assert.equal(incoming.from.userId, tenant.users.alice.id);
      assert.equal(incoming.from.displayName, tenant.users.alice.displayName);
    }

    assert.equal((await bobLaptop.request({ type: 'call.accept', callId })).type, 'ack');
    const callerAccepted = await alice.next('call.accepted');
    assert.equal(callerAccepted.role, 'caller');
    assert.equal(callerAccepted.peer.userId, tenant.users.bob.id);
    assert.equal((await bobLaptop.next('call.accepted')).role, 'callee');
    assert.equal((await bobPhone.next('call.ended')).reason, 'answered-elsewhere');

    alice.send({ type: 'call.offer', callId, sdp: 'v=0 offer' });
    assert.equal((await bobLaptop.next('call.offer')).sdp, 'v=0 offer');
    bobLaptop.send({ type: 'call.answer', callId, sdp: 'v=0 answer' });
    assert.equal((await alice.next('call.answer')).sdp, 'v=0 answer');
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    alice.send({ type: 'call.ice', callId, candidate });
    assert.deepEqual((await bobLaptop.next('call.ice')).candidate, candidate);
    bobLaptop.send({ type: 'call.ice', callId, candidate });
    await alice.next('call.ice');
    assert.equal(bobPhone.all('call.offer').length, 0, 'the device that did not answer gets no media signaling');

    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal((await alice.request({ type: 'call.hangup', callId })).type, 'ack');
    const [aliceEnd, bobEnd] = await Promise.all([alice.next('call.ended'), bobLaptop.next('call.ended')]);
    assert.equal(aliceEnd.reason, 'hangup');
    assert.equal(bobEnd.reason, 'hangup');
    assert.ok(aliceEnd.durationMs >= 400, `duration ${aliceEnd.durationMs}`);

    const cdr = await waitForCallRecord(callId);
    assert.equal(cdr.tenant_id, tenant.id);
    assert.equal(cdr.caller_id, tenant.users.alice.id);
    assert.equal(cdr.callee_id, tenant.users.bob.id);
    assert.equal(cdr.end_reason, 'hangup');
    assert.ok(cdr.answered_at);
    assert.equal(cdr.duration_ms, aliceEnd.durationMs);
  });

  test('the callee rejects', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const callId = newCallId();
    await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media });
    await bob.next('call.incoming', (m) => m.callId === callId);
    await bob.request({ type: 'call.reject', callId });
    assert.equal((await alice.next('call.ended', (m) => m.callId === callId)).reason, 'rejected');
    const cdr = await waitForCallRecord(callId);
    assert.equal(cdr.end_reason, 'rejected');
    assert.equal(cdr.duration_ms, 0);
    assert.equal(cdr.answered_at, null);
  });

  test('the caller cancels while it rings', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const callId = newCallId();
    await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media });
    await bob.next('call.incoming', (m) => m.callId === callId);
    await alice.request({ type: 'call.cancel', callId });
    assert.equal((await bob.next('call.ended', (m) => m.callId === callId)).reason, 'cancelled');
    assert.equal((await waitForCallRecord(callId)).end_reason, 'cancelled');
    const late = await bob.request({ type: 'call.accept', callId });
    assert.equal(late.type === 'error' && late.code, 'invalid_state');
  });

  test('nobody answers: the call ends as no-answer after the ring timeout', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const callId = newCallId();
    await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media });
    await bob.next('call.incoming', (m) => m.callId === callId);
    const ringSeconds = Number(stack.edgeVars.RING_TIMEOUT_SECONDS);
    const ended = await alice.next('call.ended', (m) => m.callId === callId, (ringSeconds + 10) * 1000);
    assert.equal(ended.reason, 'no-answer');
    assert.equal((await bob.next('call.ended', (m) => m.callId === callId)).reason, 'no-answer');
    assert.equal((await waitForCallRecord(callId)).end_reason, 'no-answer');
  });
});

describe('calls that cannot ring', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('a callee with no connected device is unavailable', async () => {
    const alice = await device(tenant.users.alice);
    const callId = newCallId();
    await alice.request({ type: 'call.invite', callId, to: tenant.users.dave.id, media });
    assert.equal((await alice.next('call.ended', (m) => m.callId === callId)).reason, 'unavailable');
    assert.equal((await waitForCallRecord(callId)).end_reason, 'unavailable');
  });

  test('a callee already in a call is busy', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const carol = await device(tenant.users.carol);
    const first = newCallId();
    await carol.request({ type: 'call.invite', callId: first, to: tenant.users.bob.id, media });
    await bob.next('call.incoming', (m) => m.callId === first);
    await bob.request({ type: 'call.accept', callId: first });
    await carol.next('call.accepted');

    const second = newCallId();
    await alice.request({ type: 'call.invite', callId: second, to: tenant.users.bob.id, media });
    assert.equal((await alice.next('call.ended', (m) => m.callId === second)).reason, 'busy');
    assert.equal(bob.all('call.incoming').filter((m) => m.callId === second).length, 0);
    assert.equal((await waitForCallRecord(second)).end_reason, 'busy');
    await carol.request({ type: 'call.hangup', callId: first });
  });

  test('calling a user of another tenant, or nobody, or yourself fails with a typed error', async () => {
    const other = await createTenant();
    const alice = await device(tenant.users.alice);
    const foreign = await alice.request({ type: 'call.invite', callId: newCallId(), to: other.users.bob.id, media });
    assert.equal(foreign.type === 'error' && foreign.code, 'not_found');
    // Online makes no difference: a hub only vouches for users of its own tenant.
    const foreignBob = await device(other.users.bob);
    const online = await alice.request({ type: 'call.invite', callId: newCallId(), to: other.users.bob.id, media });
    assert.equal(online.type === 'error' && online.code, 'not_found');
    assert.equal(foreignBob.all('call.incoming').length, 0);
    const nobody = await alice.request({ type: 'call.invite', callId: newCallId(), to: 'no-such-user', media });
    assert.equal(nobody.type === 'error' && nobody.code, 'not_found');
    const self = await alice.request({ type: 'call.invite', callId: newCallId(), to: tenant.users.alice.id, media });
    assert.equal(self.type === 'error' && self.code, 'bad_request');
  });

  test('a call id cannot be used twice', async () => {
    const alice = await device(tenant.users.alice);
    const callId = newCallId();
    await alice.request({ type: 'call.invite', callId, to: tenant.users.dave.id, media });
    await alice.next('call.ended', (m) => m.callId === callId);
    const again = await alice.request({ type: 'call.invite', callId, to: tenant.users.dave.id, media });
    assert.equal(again.type === 'error' && again.code, 'conflict');
  });
});

describe('attended transfer', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  /** `from` calls `to`, who answers: the call id and both devices. */
  async function answered(from: Awaited<ReturnType<typeof device>>, to: Awaited<ReturnType<typeof device>>, toId: string) {
    const callId = newCallId();
    assert.equal((await from.request({ type: 'call.invite', callId, to: toId, media })).type, 'ack');
    await to.next('call.incoming', (m) => m.callId === callId);
    assert.equal((await to.request({ type: 'call.accept', callId })).type, 'ack');
    await from.next('call.accepted', (m) => m.callId === callId);
    return callId;
  }

  test('alice holds bob, consults carol, transfers; bob’s call takes over carol’s consultation, only her device in it rings', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const carol = await device(tenant.users.carol);
    const carolOther = await device(tenant.users.carol);
    const first = await answered(alice, bob, tenant.users.bob.id);
    // A second call while one is in progress: the consultation (carol's other device stops ringing).
    const consultation = await answered(alice, carol, tenant.users.carol.id);
    await carolOther.next('call.ended', (m) => m.callId === consultation);

    // Only a consultation with the target qualifies.
    const wrongTarget = await alice.request({ type: 'call.transfer', callId: first, to: tenant.users.dave.id, replaces: consultation });
    assert.equal(wrongTarget.type === 'error' && wrongTarget.code, 'bad_request');
    assert.equal((await alice.request({ type: 'call.transfer', callId: first, to: tenant.users.carol.id, replaces: consultation })).type, 'ack');
    const ended = await bob.next('call.ended', (m) => m.callId === first);
    assert.deepEqual([ended.reason, ended.transferTo?.userId, ended.replaces], ['transferred', tenant.users.carol.id, consultation]);

    // Someone else cannot use the permit; bob can, once.
    const dave = await device(tenant.users.dave);
    const stolen = await dave.request({ type: 'call.invite', callId: newCallId(), to: tenant.users.carol.id, media, replaces: consultation });
    assert.equal(stolen.type === 'error' && stolen.code, 'not_found');
    const takeover = newCallId();
    assert.equal((await bob.request({ type: 'call.invite', callId: takeover, to: tenant.users.carol.id, media, replaces: consultation })).type, 'ack');
    const incoming = await carol.next('call.incoming', (m) => m.callId === takeover);
    assert.equal(incoming.replaces, consultation);
    assert.equal(carolOther.all('call.incoming').filter((m) => m.callId === takeover).length, 0, 'only the device in the consultation rings');
    assert.equal((await carol.request({ type: 'call.accept', callId: takeover })).type, 'ack');
    await bob.next('call.accepted', (m) => m.callId === takeover);
    const [aliceEnd, carolEnd] = await Promise.all([
      alice.next('call.ended', (m) => m.callId === consultation),
      carol.next('call.ended', (m) => m.callId === consultation),
    ]);
    assert.deepEqual([aliceEnd.reason, carolEnd.reason], ['transferred', 'transferred']);
    assert.equal((await waitForCallRecord(consultation)).end_reason, 'transferred');
    assert.equal((await waitForCallRecord(first)).end_reason, 'transferred');

    // The permit is spent: the consultation is over.
    const again = await bob.request({ type: 'call.invite', callId: newCallId(), to: tenant.users.carol.id, media, replaces: consultation });
    assert.equal(again.type === 'error' && again.code, 'not_found');
    await bob.request({ type: 'call.hangup', callId: takeover });
    assert.equal((await waitForCallRecord(takeover)).end_reason, 'hangup');
  });

  test('a third call while one is held and one consulted is refused; a call of another tenant cannot be named', async () => {
    const other = await createTenant();
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const carol = await device(tenant.users.carol);
    const first = await answered(alice, bob, tenant.users.bob.id);
    const consultation = await answered(alice, carol, tenant.users.carol.id);
    const third = await alice.request({ type: 'call.invite', callId: newCallId(), to: tenant.users.dave.id, media });
    assert.equal(third.type === 'error' && third.code, 'invalid_state');

    const foreignAlice = await device(other.users.alice);
    const foreignCarol = await device(other.users.carol);
    const foreignCall = await answered(foreignAlice, foreignCarol, other.users.carol.id);
    const cross = await alice.request({ type: 'call.transfer', callId: first, to: tenant.users.carol.id, replaces: foreignCall });
    assert.equal(cross.type === 'error' && cross.code, 'not_found');
    await Promise.all([alice.request({ type: 'call.hangup', callId: first }), alice.request({ type: 'call.hangup', callId: consultation })]);
    await foreignAlice.request({ type: 'call.hangup', callId: foreignCall });
  });
});
