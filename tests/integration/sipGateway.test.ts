/**
 * The edge's side of the SIP gateway (protocol/src/sip.ts), with the test as the gateway: an HTTP
 * server (lib/SipGatewayStub.ts) is the gateway's control URL and checks the signature of every
 * delivery; the test signs the gateway's requests with the nodes' secret. Covered: who may call
 * `/api/sip/*` (signatures, expiry, replays, content type, schemas), digest credentials,
 * registrations and the presence they give, where a dialled target goes (only inside the
 * caller's organisation), calls both ways between a browser (a SignalingClient) and a SIP
 * device, both ringing at once, and what a SIP device may not send.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  signControlRequest,
  sipDeviceId,
  type ClientMessage,
  type ErrorBody,
  type RevealedSipCredentials,
  type ServerMessage,
  type SipCredentialsAnswer,
  type SipDevice,
  type SipRegistrationAnswer,
  type SipRouteAnswer,
  type SipUserRoute,
} from '@callstack/protocol';
import { DEFAULT_SIP_REALM } from '../../edge/src/config.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { demoSipCredentials } from '../../edge/scripts/seed.ts';
import { api, createTenant, login, waitForCallRecord, type TestTenant, type TestUser } from '../lib/fixtures.ts';
import { devicePool } from '../lib/SignalingClient.ts';
import { SipGatewayStub, type EdgeAnswer } from '../lib/SipGatewayStub.ts';
import { stack } from '../lib/stack.ts';

const { device, watcher, closeAll } = devicePool(() => stack.url, login);
let gateway: SipGatewayStub;
before(async () => {
  gateway = await SipGatewayStub.start(stack.url, stack.mediaSecret);
});
after(async () => {
  await closeAll();
  await gateway.close();
});

const ROUTES = ['/api/sip/credentials', '/api/sip/registrations', '/api/sip/route', '/api/sip/messages'] as const;
const audioOnly = { audio: true, video: false };
const newCallId = () => crypto.randomUUID();
const graceMs = () => Number(stack.edgeVars.PRESENCE_OFFLINE_GRACE_SECONDS) * 1000;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const OFFER = 'v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const ANSWER = 'v=0\r\no=browser 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\n';

function usernameOf(user: TestUser): string {
  return demoSipCredentials(user).username;
}

/** A refusal of the pipeline or a handler: its status and `{ error: { code, message } }`, nothing else. */
function assertRefused(answer: EdgeAnswer, status: number, code: string): ErrorBody {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  const body = answer.body as ErrorBody;
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  return body;
}

/** Registers `user`'s phone through the stub; returns the device the edge names. */
async function registerPhone(user: TestUser, expires = 600): Promise<SipDevice> {
  const answer = await gateway.register(usernameOf(user), expires);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return (answer.body as SipRegistrationAnswer).device;
}

/** The caller's device for a call from `user`'s phone to `target`, as `/route` answers it. */
async function route(user: TestUser, target: string): Promise<SipUserRoute> {
  const answer = await gateway.route(usernameOf(user), target);
  assert.equal(answer.status, 200, `route ${usernameOf(user)} -> ${target}: ${answer.status} ${JSON.stringify(answer.body)}`);
  const body = answer.body as SipRouteAnswer;
  assert.equal(body.kind, 'user', JSON.stringify(body));
  return body as SipUserRoute;
}

/** A client message from a SIP device; returns what a socket would have got back. */
async function say(from: SipDevice, message: ClientMessage): Promise<ServerMessage> {
  const answer = await gateway.message(from, message);
  assert.equal(answer.status, 200, `${message.type}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function sayOk(from: SipDevice, message: ClientMessage): Promise<void> {
  const reply = await say(from, { ...message, ref: message.ref ?? crypto.randomUUID().slice(0, 8) });
  assert.equal(reply.type, 'ack', `${message.type}: ${JSON.stringify(reply)}`);
}

function assertErrorReply(reply: ServerMessage, code: string): void {
  assert.equal(reply.type, 'error', JSON.stringify(reply));
  assert.equal(reply.type === 'error' && reply.code, code, JSON.stringify(reply));
}

async function extensionOf(user: TestUser): Promise<string> {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query<{ extension: string }>('select extension from users where id = $1', [user.id]);
    return rows[0]!.extension;
  });
}

/** Gives `user` an extension no tenant of the stack holds (8 random digits). */
async function uniqueExtension(user: TestUser): Promise<string> {
  const extension = `9${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`;
  await withClient(stack.database, (client) => client.query('update users set extension = $1 where id = $2', [extension, user.id]));
  return extension;
}

/** Gives `user` a SIP username of the edge's own shape (`u` + 11), unlike the seed's, which equals the user id. */
async function ownUsername(user: TestUser): Promise<string> {
  const username = `u${crypto.randomUUID().replace(/-/g, '').slice(0, 11)}`;
  await withClient(stack.database, (client) => client.query('update sip_credentials set username = $1 where user_id = $2', [username, user.id]));
  return username;
}

function assertNoRefusedDelivery(): void {
  assert.deepEqual(gateway.refused, [], 'every delivery of the edge carries a valid, fresh signature and a SIP delivery body');
}

describe('who may call /api/sip/*', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  const bodyFor = (path: (typeof ROUTES)[number]): unknown => {
    const username = usernameOf(tenant.users.bob);
    switch (path) {
      case '/api/sip/credentials':
        return { username };
      case '/api/sip/registrations':
        // An unregistration: the one request here that gets through changes nothing.
        return { node: gateway.node, username, contact: '*', expires: 0 };
      case '/api/sip/route':
        return { node: gateway.node, username, target: tenant.users.alice.id };
      case '/api/sip/messages':
        return {
          node: gateway.node,
          device: {
            tenantId: tenant.id,
            userId: tenant.users.bob.id,
            deviceId: sipDeviceId(tenant.users.bob.id),
            displayName: tenant.users.bob.displayName,
            username,
          },
          message: { type: 'call.hangup', callId: newCallId() },
        };
    }
  };

  test('unsigned, malformed, badly signed, tampered and expired requests are 401 with the error shape', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const path of ROUTES) {
      const body = bodyFor(path);
      assertRefused(await gateway.post(path, body, { signature: null }), 401, 'unauthorized');
      assertRefused(await gateway.post(path, body, { signature: 'v1=abc' }), 401, 'unauthorized');
      assertRefused(await gateway.post(path, body, { signature: `t=${now},n=${'a'.repeat(32)},v1=${'0'.repeat(64)}` }), 401, 'unauthorized');
      assertRefused(await gateway.post(path, body, { secret: 'not-the-nodes-secret-at-all' }), 401, 'unauthorized');
      const other = ROUTES.find((each) => each !== path)!;
      assertRefused(await gateway.post(path, body, { signedPath: other }), 401, 'unauthorized');
      const signed = await gateway.post(path, body, { signature: undefined, signedPath: path });
      assert.notEqual(signed.status, 401, `${path} accepts a good signature: ${JSON.stringify(signed.body)}`);
      const tampered = JSON.stringify({ ...(body as object), extra: 1 });
      assertRefused(await gateway.sendRaw(path, tampered, signed.signature), 401, 'unauthorized');
      const raw = JSON.stringify(body);
      for (const timestamp of [now - 600, now + 600]) {
        const stale = await signControlRequest(stack.mediaSecret, { method: 'POST', path, body: raw }, { timestamp });
        assertRefused(await gateway.sendRaw(path, raw, stale), 401, 'signature_expired');
      }
    }
  });

  test('a body that is not application/json is 415, even when signed', async () => {
    for (const path of ROUTES) {
      assertRefused(await gateway.post(path, bodyFor(path), { contentType: 'text/plain' }), 415, 'unsupported_media_type');
      assertRefused(await gateway.post(path, bodyFor(path), { contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    }
  });

  test('signed bodies that break the schema are 400', async () => {
    const username = usernameOf(tenant.users.bob);
    const contact = `sip:${username}@192.0.2.10:5060`;
    const device = (bodyFor('/api/sip/messages') as { device: SipDevice }).device;
    const cases: [string, unknown][] = [
      ['/api/sip/credentials', '{'],
      ['/api/sip/credentials', {}],
      ['/api/sip/credentials', { username: 'has space' }],
      ['/api/sip/credentials', { username: 'x'.repeat(65) }],
      ['/api/sip/credentials', { username: 42 }],
      ['/api/sip/registrations', { username, contact, expires: 60 }],
      ['/api/sip/registrations', { node: gateway.node, username, expires: 60 }],
      ['/api/sip/registrations', { node: gateway.node, username, contact: '', expires: 60 }],
      ['/api/sip/registrations', { node: gateway.node, username, contact: 'x'.repeat(513), expires: 60 }],
      ['/api/sip/registrations', { node: gateway.node, username, contact, expires: -1 }],
      ['/api/sip/registrations', { node: gateway.node, username, contact, expires: 86_401 }],
      ['/api/sip/registrations', { node: gateway.node, username, contact, expires: 1.5 }],
      ['/api/sip/registrations', { node: { nodeId: 'bad id!', controlUrl: gateway.node.controlUrl }, username, contact, expires: 60 }],
      ['/api/sip/registrations', { node: { nodeId: 'gw', controlUrl: 'not a url' }, username, contact, expires: 60 }],
      ['/api/sip/route', { node: gateway.node, username, target: '' }],
      ['/api/sip/route', { node: gateway.node, username, target: 'x'.repeat(129) }],
      ['/api/sip/route', { node: gateway.node, username }],
      ['/api/sip/messages', { node: gateway.node, device }],
      ['/api/sip/messages', { node: gateway.node, message: { type: 'call.hangup', callId: newCallId() } }],
      ['/api/sip/messages', { node: gateway.node, device, message: { type: 'call.teleport', callId: newCallId() } }],
      ['/api/sip/messages', { node: gateway.node, device, message: { type: 'call.hangup', callId: 'not an id!' } }],
      ['/api/sip/messages', { node: gateway.node, device: { ...device, username: 'has space' }, message: { type: 'call.hangup', callId: newCallId() } }],
    ];
    for (const [path, body] of cases) {
      const answer = await gateway.post(path, body);
      assert.equal(answer.status, 400, `${path} ${JSON.stringify(body)}: ${answer.status} ${JSON.stringify(answer.body)}`);
      assertRefused(answer, 400, 'bad_request');
    }
  });

  test('a replayed registration (the same signature and body) is 409 and changes nothing', async () => {
    const { dave } = tenant.users;
    const carol = await watcher(tenant.users.carol);
    const registration = await gateway.register(usernameOf(dave), 600);
    assert.equal(registration.status, 200, JSON.stringify(registration.body));
    await carol.waitForStatus(dave.id, 'online');
    assertRefused(await gateway.sendRaw('/api/sip/registrations', registration.rawBody, registration.signature), 409, 'conflict');

    const unregistration = await gateway.register(usernameOf(dave), 0);
    assert.equal(unregistration.status, 200, JSON.stringify(unregistration.body));
    // The captured registration of 600 s, sent again after the phone left: it must not put the phone back.
    assertRefused(await gateway.sendRaw('/api/sip/registrations', registration.rawBody, registration.signature), 409, 'conflict');
    assertRefused(await gateway.sendRaw('/api/sip/registrations', unregistration.rawBody, unregistration.signature), 409, 'conflict');
    await carol.waitForStatus(dave.id, 'offline', graceMs() + 15_000);
    // A later change reaches the watcher after anything the replays could have caused.
    await device(tenant.users.alice);
    await carol.waitForStatus(tenant.users.alice.id, 'online');
    assert.equal(carol.statusOf(dave.id), 'offline');
  });

  test('a replayed message (the same signature and body) is refused with conflict and relayed once', async () => {
    const { alice, bob } = tenant.users;
    const bobDesk = await device(bob);
    const caller = (await route(alice, bob.id)).caller;
    const callId = newCallId();
    await sayOk(caller, { type: 'call.invite', callId, to: bob.id, media: audioOnly });
    await bobDesk.next('call.incoming', (m) => m.callId === callId);
    assert.equal((await bobDesk.request({ type: 'call.accept', callId })).type, 'ack');
    await gateway.next(caller.deviceId, 'call.accepted', (m) => m.callId === callId);

    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    const ice = await gateway.message(caller, { type: 'call.ice', callId, candidate });
    assert.equal(ice.status, 200);
    assert.equal(ice.body.type, 'ack', JSON.stringify(ice.body));
    const replay = await gateway.sendRaw<ServerMessage>('/api/sip/messages', ice.rawBody, ice.signature);
    // The user's hub refuses a nonce it has seen, in the answer a socket would get: 200 with `error` conflict
    // (a replayed registration is refused by the route itself, 409).
    assert.equal(replay.status, 200, `replay: ${replay.status} ${JSON.stringify(replay.body)}`);
    assertErrorReply(replay.body, 'conflict');

    // Relays of one call arrive in order: a candidate sent after the replay comes after any copy the replay made.
    const later = { ...candidate, candidate: 'candidate:2 1 udp 2122260222 127.0.0.1 40002 typ host' };
    await sayOk(caller, { type: 'call.ice', callId, candidate: later });
    await bobDesk.next('call.ice', (m) => m.candidate.candidate === later.candidate);
    assert.equal(bobDesk.all('call.ice').filter((m) => m.candidate.candidate === candidate.candidate).length, 1, 'the replayed candidate is relayed once');

    await sayOk(caller, { type: 'call.hangup', callId });
    await bobDesk.next('call.ended', (m) => m.callId === callId);
    assertNoRefusedDelivery();
  });
});

describe('digest credentials', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('a seeded username answers the HA1 of username:realm:password, and only that', async () => {
    for (const user of Object.values(tenant.users)) {
      const { username, password } = demoSipCredentials(user);
      const answer = await gateway.credentials(username);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { ha1: md5(`${username}:${DEFAULT_SIP_REALM}:${password}`), realm: DEFAULT_SIP_REALM } satisfies SipCredentialsAnswer);
    }
  });

  test('after a rotation the HA1 is that of the new password, under the same username', async () => {
    const { bob } = tenant.users;
    const session = await login(bob);
    const rotated = await api<RevealedSipCredentials>('POST', '/api/me/sip-credentials', { auth: session.accessToken });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    assert.equal(rotated.body.username, usernameOf(bob));
    const answer = await gateway.credentials(rotated.body.username);
    assert.equal(answer.status, 200);
    const { ha1, realm } = answer.body as SipCredentialsAnswer;
    assert.equal(ha1, md5(`${rotated.body.username}:${realm}:${rotated.body.password}`));
    assert.notEqual(ha1, md5(`${usernameOf(bob)}:${realm}:${demoSipCredentials(bob).password}`));
  });

  test('an unknown username and a deactivated user’s get the same 404, and neither registers nor routes', async () => {
    const { alice, carol, dave } = tenant.users;
    const admin = (await login(alice)).accessToken;
    assert.equal((await api('POST', `/api/admin/users/${dave.id}/deactivate`, { auth: admin })).status, 204);

    const unknown = await gateway.credentials(`nobody-${crypto.randomUUID().slice(0, 8)}`);
    const deactivated = await gateway.credentials(usernameOf(dave));
    assertRefused(unknown, 404, 'not_found');
    assert.equal(deactivated.status, 404);
    assert.deepEqual(deactivated.body, unknown.body);

    assertRefused(await gateway.register(usernameOf(dave), 600), 404, 'not_found');
    const fromDave = await gateway.route(usernameOf(dave), carol.id);
    const toDave = await gateway.route(usernameOf(carol), dave.id);
    const toDaveByExtension = await gateway.route(usernameOf(carol), await extensionOf(dave));
    for (const answer of [fromDave, toDave, toDaveByExtension]) assertRefused(answer, 404, 'not_found');
  });
});

describe('registrations', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('a registration names the device; its user is online to colleagues, offline after the grace once unregistered', async () => {
    const { bob } = tenant.users;
    const carol = await watcher(tenant.users.carol);
    assert.equal(carol.statusOf(bob.id), 'offline');

    const answer = await gateway.register(usernameOf(bob), 600);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      device: { tenantId: tenant.id, userId: bob.id, deviceId: sipDeviceId(bob.id), displayName: bob.displayName, username: usernameOf(bob) },
    } satisfies SipRegistrationAnswer);
    await carol.waitForStatus(bob.id, 'online');

    // A refresh keeps it online; unregistering takes it offline once the grace is over.
    await registerPhone(bob, 600);
    assert.equal((await registerPhone(bob, 0)).deviceId, sipDeviceId(bob.id));
    await carol.waitForStatus(bob.id, 'offline', graceMs() + 15_000);

    // An unregistered phone does not ring: with no other device the caller hears unavailable.
    const alice = await device(tenant.users.alice);
    const callId = newCallId();
    assert.equal((await alice.request({ type: 'call.invite', callId, to: bob.id, media: audioOnly })).type, 'ack');
    assert.equal((await alice.next('call.ended', (m) => m.callId === callId)).reason, 'unavailable');
    assert.equal(gateway.all(sipDeviceId(bob.id), 'call.incoming').length, 0);
    assertNoRefusedDelivery();
  });

  // A phone that restarted on a new port, or a second client: one binding leaving takes nothing from the other.
  test('an account with two contacts stays registered and rings while either is; removing all (*) takes it offline', async () => {
    const extra = await createTenant();
    const { bob, alice } = extra.users;
    const carol = await watcher(extra.users.carol);
    const [desk, softClient] = ['sip:bob@192.0.2.10:5060', 'sip:bob@192.0.2.11:5062'];
    for (const contact of [desk, softClient]) assert.equal((await gateway.register(usernameOf(bob), 600, contact)).status, 200);
    await carol.waitForStatus(bob.id, 'online');
    assert.equal((await gateway.register(usernameOf(bob), 0, desk)).status, 200);

    const caller = await device(alice);
    const callId = newCallId();
    assert.equal((await caller.request({ type: 'call.invite', callId, to: bob.id, media: audioOnly })).type, 'ack');
    await gateway.next(sipDeviceId(bob.id), 'call.incoming', (m) => m.callId === callId);
    assert.equal((await caller.request({ type: 'call.hangup', callId })).type, 'ack');

    assert.equal((await gateway.register(usernameOf(bob), 0, '*')).status, 200);
    await carol.waitForStatus(bob.id, 'offline', graceMs() + 15_000);
  });

  test('a registration that lapses takes its user offline by itself', async () => {
    const { dave } = tenant.users;
    const carol = await watcher(tenant.users.carol);
    await registerPhone(dave, 3);
    // Seen online (the update counts even if the offline one came right after it), then offline with nothing sent.
    await carol.next('presence.updates', (m) => m.users.some((entry) => entry.userId === dave.id && entry.status === 'online'));
    await carol.waitForStatus(dave.id, 'offline', 3_000 + graceMs() + 20_000);
  });

  test('deactivating a user takes their registered phone offline', async () => {
    const extra = await createTenant();
    const watcherOf = await watcher(extra.users.carol);
    await registerPhone(extra.users.dave, 600);
    await watcherOf.waitForStatus(extra.users.dave.id, 'online');
    const admin = (await login(extra.users.alice)).accessToken;
    assert.equal((await api('POST', `/api/admin/users/${extra.users.dave.id}/deactivate`, { auth: admin })).status, 204);
    await watcherOf.waitForStatus(extra.users.dave.id, 'offline', graceMs() + 15_000);
  });
});

describe('where a dialled target goes', () => {
  let tenant: TestTenant;
  let other: TestTenant;
  before(async () => {
    [tenant, other] = await Promise.all([createTenant(), createTenant()]);
  });

  test('an extension, a SIP username or a user id of a colleague reaches the colleague', async () => {
    const { alice, bob, carol } = tenant.users;
    const carolUsername = await ownUsername(carol);
    const expectedCaller = {
      tenantId: tenant.id,
      userId: alice.id,
      deviceId: sipDeviceId(alice.id),
      displayName: alice.displayName,
      username: usernameOf(alice),
    };
    const targets: [string, TestUser][] = [
      [await extensionOf(bob), bob],
      [usernameOf(bob), bob],
      [bob.id, bob],
      [await extensionOf(carol), carol],
      [carolUsername, carol],
      [carol.id, carol],
    ];
    for (const [target, callee] of targets) {
      assert.deepEqual(await route(alice, target), {
        kind: 'user',
        caller: expectedCaller,
        callee: { userId: callee.id, displayName: callee.displayName },
      } satisfies SipRouteAnswer);
    }
    // Carol's phone, under its new username, is the caller the route names.
    const answer = await gateway.route(carolUsername, bob.id);
    assert.equal(answer.status, 200);
    assert.equal((answer.body as SipUserRoute).caller.username, carolUsername);
    assert.equal((answer.body as SipUserRoute).caller.userId, carol.id);
  });

  test('another organisation’s extension, username or user id, and nonsense, are the same 404', async () => {
    const { alice } = tenant.users;
    const foreign = other.users.dave;
    const foreignExtension = await uniqueExtension(foreign);
    // The same targets work inside their own organisation.
    assert.equal((await route(other.users.alice, foreignExtension)).callee.userId, foreign.id);
    assert.equal((await route(other.users.alice, usernameOf(foreign))).callee.userId, foreign.id);

    const refusals: EdgeAnswer[] = [];
    for (const target of [
      foreignExtension,
      usernameOf(foreign),
      foreign.id,
      other.id,
      'nobody',
      '0000',
      '*97',
      "' or '1'='1",
      '%',
      '_',
      'sip:bob@example.test',
    ]) {
      const answer = await gateway.route(usernameOf(alice), target);
      assertRefused(answer, 404, 'not_found');
      refusals.push(answer);
    }
    for (const answer of refusals) assert.deepEqual(answer.body, refusals[0]!.body);
    // An unknown caller is no different.
    const unknownCaller = await gateway.route(`nobody-${crypto.randomUUID().slice(0, 8)}`, tenant.users.bob.id);
    assertRefused(unknownCaller, 404, 'not_found');
    assert.deepEqual(unknownCaller.body, refusals[0]!.body);
  });

  test('an extension both organisations have reaches the caller’s own colleague', async () => {
    const extension = await extensionOf(other.users.bob);
    const callee = (await route(tenant.users.alice, extension)).callee;
    assert.notEqual(callee.userId, other.users.bob.id);
    const owner = await withClient(stack.database, async (client) => {
      const { rows } = await client.query<{ id: string }>('select id from users where tenant_id = $1 and extension = $2', [tenant.id, extension]);
      return rows[0]?.id;
    });
    assert.equal(callee.userId, owner);
  });

  test('calling yourself is refused on invite, in the message answer', async () => {
    const { alice, bob } = tenant.users;
    const self = (await route(bob, alice.id)).caller;
    const reply = await say(self, { type: 'call.invite', ref: 'self-1', callId: newCallId(), to: bob.id, media: audioOnly });
    assertErrorReply(reply, 'bad_request');
    assert.equal(reply.type === 'error' && reply.ref, 'self-1');
  });
});

describe('a web user calls a SIP device', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('the phone gets the call, offers in its accept, gets the answer, hangs up; the CDR has both parties and the talk time', async () => {
    const { alice, bob } = tenant.users;
    const phone = await registerPhone(bob);
    const aliceDesk = await device(alice);
    const callId = newCallId();

    assert.equal((await aliceDesk.request({ type: 'call.invite', callId, to: bob.id, media: audioOnly })).type, 'ack');
    const incoming = await gateway.next(phone.deviceId, 'call.incoming', (m) => m.callId === callId);
    assert.deepEqual(incoming.from, { userId: alice.id, displayName: alice.displayName });
    assert.deepEqual(incoming.media, audioOnly);
    const delivery = gateway.deliveries.find((d) => d.message === incoming)!;
    assert.deepEqual(delivery.device, phone);
    assert.equal((await aliceDesk.next('call.ringing', (m) => m.callId === callId)).to.userId, bob.id);

    await sayOk(phone, { type: 'call.accept', callId, sdp: OFFER });
    const accepted = await aliceDesk.next('call.accepted', (m) => m.callId === callId);
    assert.equal(accepted.role, 'caller');
    assert.equal(accepted.sdp, OFFER);
    assert.deepEqual(accepted.peer, { userId: bob.id, displayName: bob.displayName });
    const phoneAccepted = await gateway.next(phone.deviceId, 'call.accepted', (m) => m.callId === callId);
    assert.equal(phoneAccepted.role, 'callee');
    assert.equal(phoneAccepted.sdp, undefined);

    aliceDesk.send({ type: 'call.answer', callId, sdp: ANSWER });
    assert.equal((await gateway.next(phone.deviceId, 'call.answer', (m) => m.callId === callId)).sdp, ANSWER);
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    aliceDesk.send({ type: 'call.ice', callId, candidate });
    assert.deepEqual((await gateway.next(phone.deviceId, 'call.ice', (m) => m.callId === callId)).candidate, candidate);

    await new Promise((resolve) => setTimeout(resolve, 300));
    await sayOk(phone, { type: 'call.hangup', callId });
    const ended = await aliceDesk.next('call.ended', (m) => m.callId === callId);
    assert.equal(ended.reason, 'hangup');
    const phoneEnded = await gateway.next(phone.deviceId, 'call.ended', (m) => m.callId === callId);
    assert.equal(phoneEnded.reason, 'hangup');
    assert.ok(ended.durationMs >= 300, `duration ${ended.durationMs}`);

    const cdr = await waitForCallRecord(callId);
    assert.equal(cdr.tenant_id, tenant.id);
    assert.equal(cdr.caller_id, alice.id);
    assert.equal(cdr.callee_id, bob.id);
    assert.equal(cdr.end_reason, 'hangup');
    assert.ok(cdr.answered_at);
    assert.equal(cdr.duration_ms, ended.durationMs);
    assertNoRefusedDelivery();
  });

  test('the phone rejects: the caller hears rejected', async () => {
    const { carol, dave } = tenant.users;
    const phone = await registerPhone(dave);
    const carolDesk = await device(carol);
    const callId = newCallId();
    await carolDesk.request({ type: 'call.invite', callId, to: dave.id, media: audioOnly });
    await gateway.next(phone.deviceId, 'call.incoming', (m) => m.callId === callId);
    await sayOk(phone, { type: 'call.reject', callId });
    assert.equal((await carolDesk.next('call.ended', (m) => m.callId === callId)).reason, 'rejected');
    assert.equal((await waitForCallRecord(callId)).end_reason, 'rejected');
  });
});

describe('a SIP device calls a web user', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('the browser rings, the phone hears ringing, gets accepted as caller, offers; SDP and ICE flow both ways; CDR', async () => {
    const { alice, bob } = tenant.users;
    const bobDesk = await device(bob);
    // A phone that only calls out needs no registration: /route names its device.
    const { caller: phone, callee } = await route(alice, await extensionOf(bob));
    assert.equal(callee.userId, bob.id);
    const callId = newCallId();

    await sayOk(phone, { type: 'call.invite', callId, to: callee.userId, media: audioOnly });
    const incoming = await bobDesk.next('call.incoming', (m) => m.callId === callId);
    assert.deepEqual(incoming.from, { userId: alice.id, displayName: alice.displayName });
    assert.deepEqual(incoming.media, audioOnly);
    const ringing = await gateway.next(phone.deviceId, 'call.ringing', (m) => m.callId === callId);
    assert.deepEqual(ringing.to, { userId: bob.id, displayName: bob.displayName });

    assert.equal((await bobDesk.request({ type: 'call.accept', callId })).type, 'ack');
    const accepted = await gateway.next(phone.deviceId, 'call.accepted', (m) => m.callId === callId);
    assert.equal(accepted.role, 'caller');
    assert.deepEqual(accepted.peer, { userId: bob.id, displayName: bob.displayName });
    assert.equal((await bobDesk.next('call.accepted', (m) => m.callId === callId)).role, 'callee');

    await sayOk(phone, { type: 'call.offer', callId, sdp: OFFER });
    assert.equal((await bobDesk.next('call.offer', (m) => m.callId === callId)).sdp, OFFER);
    bobDesk.send({ type: 'call.answer', callId, sdp: ANSWER });
    assert.equal((await gateway.next(phone.deviceId, 'call.answer', (m) => m.callId === callId)).sdp, ANSWER);
    const browserCandidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    bobDesk.send({ type: 'call.ice', callId, candidate: browserCandidate });
    assert.deepEqual((await gateway.next(phone.deviceId, 'call.ice', (m) => m.callId === callId)).candidate, browserCandidate);
    const phoneCandidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    await sayOk(phone, { type: 'call.ice', callId, candidate: phoneCandidate });
    assert.deepEqual((await bobDesk.next('call.ice', (m) => m.callId === callId)).candidate, phoneCandidate);

    await sayOk(phone, { type: 'call.hangup', callId });
    assert.equal((await bobDesk.next('call.ended', (m) => m.callId === callId)).reason, 'hangup');
    assert.equal((await gateway.next(phone.deviceId, 'call.ended', (m) => m.callId === callId)).reason, 'hangup');
    const cdr = await waitForCallRecord(callId);
    assert.equal(cdr.caller_id, alice.id);
    assert.equal(cdr.callee_id, bob.id);
    assert.equal(cdr.end_reason, 'hangup');
    assert.ok(cdr.answered_at);
    assertNoRefusedDelivery();
  });

  test('the phone cancels before the answer: the browser gets call.ended cancelled', async () => {
    const { carol, dave } = tenant.users;
    const daveDesk = await device(dave);
    const { caller: phone } = await route(carol, dave.id);
    const callId = newCallId();
    await sayOk(phone, { type: 'call.invite', callId, to: dave.id, media: audioOnly });
    await daveDesk.next('call.incoming', (m) => m.callId === callId);
    await gateway.next(phone.deviceId, 'call.ringing', (m) => m.callId === callId);
    await sayOk(phone, { type: 'call.cancel', callId });
    assert.equal((await daveDesk.next('call.ended', (m) => m.callId === callId)).reason, 'cancelled');
    assert.equal((await gateway.next(phone.deviceId, 'call.ended', (m) => m.callId === callId)).reason, 'cancelled');
    assert.equal((await waitForCallRecord(callId)).end_reason, 'cancelled');
    const late = await say(phone, { type: 'call.offer', ref: 'late', callId, sdp: OFFER });
    assertErrorReply(late, 'invalid_state');
  });

  test('the phone may not accept its own call, and another user’s phone may not touch it', async () => {
    const { alice, bob, carol } = tenant.users;
    const bobDesk = await device(bob);
    const { caller: phone } = await route(alice, bob.id);
    const callId = newCallId();
    await sayOk(phone, { type: 'call.invite', callId, to: bob.id, media: audioOnly });
    await bobDesk.next('call.incoming', (m) => m.callId === callId);
    assertErrorReply(await say(phone, { type: 'call.accept', ref: 'own', callId }), 'forbidden');
    const { caller: carolPhone } = await route(carol, bob.id);
    assertErrorReply(await say(carolPhone, { type: 'call.hangup', ref: 'outsider', callId }), 'forbidden');
    await sayOk(phone, { type: 'call.cancel', callId });
    await bobDesk.next('call.ended', (m) => m.callId === callId);
  });
});

describe('a user with a browser and a registered phone', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('both ring; the browser answers and the phone gets call.ended answered-elsewhere', async () => {
    const { alice, bob } = tenant.users;
    const bobDesk = await device(bob);
    const phone = await registerPhone(bob);
    const aliceDesk = await device(alice);
    const callId = newCallId();
    await aliceDesk.request({ type: 'call.invite', callId, to: bob.id, media: audioOnly });
    await bobDesk.next('call.incoming', (m) => m.callId === callId);
    await gateway.next(phone.deviceId, 'call.incoming', (m) => m.callId === callId);

    assert.equal((await bobDesk.request({ type: 'call.accept', callId })).type, 'ack');
    assert.equal((await aliceDesk.next('call.accepted', (m) => m.callId === callId)).role, 'caller');
    assert.equal((await gateway.next(phone.deviceId, 'call.ended', (m) => m.callId === callId)).reason, 'answered-elsewhere');
    // The phone is out of this call now.
    assertErrorReply(await say(phone, { type: 'call.answer', ref: 'late', callId, sdp: ANSWER }), 'forbidden');

    aliceDesk.send({ type: 'call.offer', callId, sdp: OFFER });
    await bobDesk.next('call.offer', (m) => m.callId === callId);
    assert.equal(gateway.all(phone.deviceId, 'call.offer').length, 0);
    await aliceDesk.request({ type: 'call.hangup', callId });
    await bobDesk.next('call.ended', (m) => m.callId === callId);
    assertNoRefusedDelivery();
  });

  test('both ring; the phone answers and the browser gets call.ended answered-elsewhere', async () => {
    const { bob, carol } = tenant.users;
    const bobDesk = await device(bob);
    const phone = await registerPhone(bob);
    const carolDesk = await device(carol);
    const callId = newCallId();
    await carolDesk.request({ type: 'call.invite', callId, to: bob.id, media: audioOnly });
    await bobDesk.next('call.incoming', (m) => m.callId === callId);
    await gateway.next(phone.deviceId, 'call.incoming', (m) => m.callId === callId);
    await sayOk(phone, { type: 'call.accept', callId, sdp: OFFER });
    assert.equal((await carolDesk.next('call.accepted', (m) => m.callId === callId)).sdp, OFFER);
    assert.equal((await bobDesk.next('call.ended', (m) => m.callId === callId)).reason, 'answered-elsewhere');
    await carolDesk.request({ type: 'call.hangup', callId });
    assert.equal((await gateway.next(phone.deviceId, 'call.ended', (m) => m.callId === callId)).reason, 'hangup');
    assert.equal((await waitForCallRecord(callId)).callee_id, bob.id);
  });
});

describe('what a SIP device may not send', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('a device that is not sip-<userId> is 403, and its message has no effect', async () => {
    const { alice, bob, carol } = tenant.users;
    const bobDesk = await device(bob);
    const { caller } = await route(alice, bob.id);
    const forbiddenCall = newCallId();
    const invite: ClientMessage = { type: 'call.invite', callId: forbiddenCall, to: bob.id, media: audioOnly };
    for (const deviceId of [sipDeviceId(carol.id), bobDesk.deviceId, `web-${alice.id}`, alice.id, 'sip-']) {
      assertRefused(await gateway.message({ ...caller, deviceId }, invite), 403, 'forbidden');
    }
    // A call placed afterwards is the first that rings: the refused invite never reached the callee.
    const callId = newCallId();
    await sayOk(caller, { type: 'call.invite', callId, to: bob.id, media: audioOnly });
    const first = await bobDesk.next('call.incoming');
    assert.equal(first.callId, callId);
    assert.equal(bobDesk.all('call.incoming').filter((m) => m.callId === forbiddenCall).length, 0);
    await sayOk(caller, { type: 'call.cancel', callId });
    await bobDesk.next('call.ended', (m) => m.callId === callId);
  });

  test('room, presence and ping messages are refused in the answer, and change nothing', async () => {
    const { alice, bob } = tenant.users;
    const phone = await registerPhone(bob);
    const carol = await watcher(tenant.users.carol);
    await carol.waitForStatus(bob.id, 'online');
    const refused: ClientMessage[] = [
      { type: 'room.create', ref: 'r1' },
      { type: 'room.join', ref: 'r2', roomId: crypto.randomUUID() },
      { type: 'presence.set', ref: 'p1', status: 'dnd' },
      { type: 'presence.set', ref: 'p2', status: 'away' },
      { type: 'presence.activity', ref: 'p3', idle: true },
      { type: 'ping', ref: 'g1' },
    ];
    for (const message of refused) {
      const reply = await say(phone, message);
      assertErrorReply(reply, 'bad_request');
      assert.equal(reply.type === 'error' && reply.ref, message.ref);
    }
    assert.equal(carol.statusOf(bob.id), 'online');
    // Not do-not-disturb: a call still rings the phone (dnd would answer busy).
    const aliceDesk = await device(alice);
    const callId = newCallId();
    await aliceDesk.request({ type: 'call.invite', callId, to: bob.id, media: audioOnly });
    await gateway.next(phone.deviceId, 'call.incoming', (m) => m.callId === callId);
    await carol.waitForStatus(bob.id, 'busy');
    await aliceDesk.request({ type: 'call.cancel', callId });
    assert.equal((await gateway.next(phone.deviceId, 'call.ended', (m) => m.callId === callId)).reason, 'cancelled');
    // No room came of room.create: the phone got nothing but call messages.
    const bobDeliveries = gateway.deliveries.filter((d) => d.device.deviceId === phone.deviceId).map((d) => d.message.type);
    assert.ok(
      bobDeliveries.every((type) => type.startsWith('call.')),
      bobDeliveries.join(', '),
    );
    assertNoRefusedDelivery();
  });
});
