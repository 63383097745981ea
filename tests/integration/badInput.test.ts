/**
 * Bad input at the signaling boundary: every case has a defined, typed answer, and neither the
 * connection nor a call in progress is lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { MAX_SIGNALING_MESSAGE_BYTES } from '@callstack/protocol';
import { WebSocket } from 'ws';
import { api, createTenant, expiredSocketTicket, login, type TestTenant } from '../lib/fixtures.ts';
import { devicePool } from '../lib/SignalingClient.ts';
import { refusedUpgrade, socketTicket } from '../lib/SocketClient.ts';
import { stack } from '../lib/stack.ts';

const { device, closeAll } = devicePool(() => stack.url, login);
after(closeAll);

const upgradeStatus = (query: string) => refusedUpgrade(`${stack.url}/api/signaling${query}`);

describe('WebSocket upgrade', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('without a ticket: 401 unauthorized', async () => {
    const { status, body } = await upgradeStatus('');
    assert.equal(status, 401);
    assert.deepEqual(body, { error: { code: 'unauthorized', message: 'missing socket ticket (POST /api/sockets/ticket)' } });
  });

  test('the access token is no ticket, in the old `token` parameter or as the ticket: 401 unauthorized', async () => {
    const session = await login(tenant.users.bob);
    const old = await upgradeStatus(`?token=${session.accessToken}`);
    assert.equal(old.status, 401);
    assert.equal((old.body as { error: { code: string } }).error.code, 'unauthorized');
    const asTicket = await upgradeStatus(`?ticket=${session.accessToken}`);
    assert.deepEqual(asTicket.body, { error: { code: 'unauthorized', message: 'invalid socket ticket' } });
  });

  test('a ticket opens one socket only: used again, it is refused', async () => {
    const session = await login(tenant.users.bob);
    const ticket = await socketTicket(stack.url, session.accessToken);
    const ws = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/api/signaling?ticket=${ticket}&device=first`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    });
    ws.close();
    const again = await upgradeStatus(`?ticket=${ticket}&device=second`);
    assert.equal(again.status, 401);
    assert.deepEqual(again.body, { error: { code: 'unauthorized', message: 'this socket ticket was used already' } });
    // Nor does the same ticket open the other socket.
    const presence = await refusedUpgrade(`${stack.url}/api/presence?ticket=${ticket}`);
    assert.equal(presence.status, 401);
  });

  test('API keys get no socket tickets: 403', async () => {
    const admin = await login(tenant.users.alice);
    const key = await api<{ key: string }>('POST', '/api/admin/api-keys', { auth: admin.accessToken, body: { name: 'sockets', role: 'user' } });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const answer = await api<{ error: { code: string } }>('POST', '/api/sockets/ticket', { auth: key.body.key });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, 'forbidden');
  });

  test('with an expired ticket: 401 token_expired', async () => {
    const { status, body } = await upgradeStatus(`?ticket=${await expiredSocketTicket(tenant.users.bob)}`);
    assert.equal(status, 401);
    assert.equal((body as { error: { code: string } }).error.code, 'token_expired');
  });

  test('with a ticket signed by another key: 401 unauthorized', async () => {
    const forged = await new SignJWT({ tid: tenant.id, role: 'admin', name: 'Mallory' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject(tenant.users.bob.id)
      .setIssuer('callstack')
      .setAudience('callstack-socket')
      .setJti(crypto.randomUUID())
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('not-the-edge-secret-not-the-edge-secret'));
    const { status, body } = await upgradeStatus(`?ticket=${forged}`);
    assert.equal(status, 401);
    assert.equal((body as { error: { code: string } }).error.code, 'unauthorized');
  });

  test('with a malformed device id: 400', async () => {
    const session = await login(tenant.users.bob);
    const { status } = await upgradeStatus(`?ticket=${await socketTicket(stack.url, session.accessToken)}&device=${encodeURIComponent('../../x')}`);
    assert.equal(status, 400);
  });
});

describe('malformed messages on an open connection', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('each gets a typed error, and the connection and the call survive', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const callId = crypto.randomUUID();
    await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media: { audio: true, video: false } });
    await bob.next('call.incoming');
    await bob.request({ type: 'call.accept', callId });
    await alice.next('call.accepted');

    alice.sendRaw('{ this is not json');
    assert.equal((await alice.next('error')).code, 'bad_message');
    alice.sendRaw(JSON.stringify({ type: 'call.teleport', callId }));
    assert.equal((await alice.next('error')).code, 'bad_message');
    alice.sendRaw(JSON.stringify({ type: 'call.offer', callId: 'no spaces allowed', sdp: 'x' }));
    const invalidId = await alice.next('error');
    assert.equal(invalidId.code, 'bad_message');
    assert.match(invalidId.message, /callId/);
    alice.sendRaw(JSON.stringify({ type: 'call.offer', callId, sdp: 'x'.repeat(MAX_SIGNALING_MESSAGE_BYTES + 1) }));
    assert.equal((await alice.next('error')).code, 'message_too_large');
    alice.sendRaw(Buffer.from([0xff, 0xfe, 0x00]));
    assert.equal((await alice.next('error')).code, 'bad_message');

    assert.ok(alice.isOpen);
    alice.send({ type: 'call.offer', callId, sdp: 'v=0 still here' });
    assert.equal((await bob.next('call.offer')).sdp, 'v=0 still here');
    await alice.request({ type: 'call.hangup', callId });
    assert.equal((await bob.next('call.ended')).reason, 'hangup');
  });

  test('a user who is not part of a call cannot signal into it', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const carol = await device(tenant.users.carol);
    const callId = crypto.randomUUID();
    await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media: { audio: true, video: false } });
    await bob.next('call.incoming', (m) => m.callId === callId);

    const steal = await carol.request({ type: 'call.accept', callId });
    assert.equal(steal.type === 'error' && steal.code, 'forbidden');
    await bob.request({ type: 'call.accept', callId });
    await alice.next('call.accepted', (m) => m.callId === callId);

    for (const attempt of [
      { type: 'call.offer', callId, sdp: 'v=0 injected' },
      { type: 'call.hangup', callId },
    ] as const) {
      const reply = await carol.request(attempt);
      assert.equal(reply.type === 'error' && reply.code, 'forbidden');
    }
    // Another device of the callee that did not answer is not in the call either.
    const bobOther = await device(tenant.users.bob);
    const sideways = await bobOther.request({ type: 'call.hangup', callId });
    assert.equal(sideways.type === 'error' && sideways.code, 'forbidden');

    // Another tenant cannot even see the call.
    const other = await createTenant();
    const outsider = await device(other.users.alice);
    const foreign = await outsider.request({ type: 'call.hangup', callId });
    assert.equal(foreign.type === 'error' && foreign.code, 'not_found');

    assert.equal(alice.all('call.ended').filter((m) => m.callId === callId).length, 0, 'the call is still up');
    await alice.request({ type: 'call.hangup', callId });
    assert.equal((await bob.next('call.ended', (m) => m.callId === callId)).reason, 'hangup');
  });

  test('a flood is throttled with rate_limited errors and the connection stays usable', async () => {
    const alice = await device(tenant.users.alice);
    for (let i = 0; i < 300; i++) alice.send({ type: 'ping', ref: `p${i}` });
    await alice.next('error', (m) => m.code === 'rate_limited');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const pongs = alice.all('pong').length;
    assert.ok(pongs > 0 && pongs < 300, `${pongs} pongs`);
    alice.send({ type: 'ping', ref: 'after' });
    await alice.next('pong', (m) => m.ref === 'after');
    assert.ok(alice.isOpen);
  });

  test('a second connection with the same device id replaces the first', async () => {
    const first = await device(tenant.users.dave, 'dave-desk');
    const second = await device(tenant.users.dave, 'dave-desk');
    assert.equal((await first.whenClosed()).code, 4001);
    assert.ok(second.isOpen);
  });
});
