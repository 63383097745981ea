/**
 * The gateway's HTTP side against hostile callers: the edge's deliveries must be signed, fresh and
 * well-formed; Kamailio's calls must carry the node-local token. Nothing malformed reaches the
 * gateway or the edge.
 */
import { CONTROL_SIGNATURE_HEADER, signControlRequest, type SipDelivery, type SipRegistration } from '@callstack/protocol';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { ControlServer, LOCAL_TOKEN_HEADER } from './ControlServer.ts';
import type { EdgeClient } from './EdgeClient.ts';
import type { Gateway } from './Gateway.ts';
import { TrunkSources } from './TrunkSources.ts';

const SECRET = 'control-secret-of-the-nodes';
const VOICEMAIL_DIR = mkdtempSync(join(tmpdir(), 'callstack-voicemail-test-'));
const TOKEN = 'local-token-for-kamailio-0123456789';
const delivered: SipDelivery[] = [];
const lookedUp: string[] = [];
const registered: Omit<SipRegistration, 'node'>[] = [];
const gateway = { deliver: (delivery: SipDelivery) => delivered.push(delivery) } as unknown as Gateway;
const edge = {
  credentials: async (username: string) => {
    lookedUp.push(username);
    return username === 'alice' ? { ha1: '0123456789abcdef0123456789abcdef', realm: 'sip.test' } : null;
  },
  register: async (registration: Omit<SipRegistration, 'node'>) => {
    registered.push(registration);
    const { username } = registration;
    return username === 'alice' ? { device: { tenantId: 't1', userId: 'alice', deviceId: 'sip-alice', displayName: 'Alice', username } } : null;
  },
} as unknown as EdgeClient;
const trunks = new TrunkSources(async () => ({ trunks: [{ id: 'carrier-a', addresses: ['192.0.2.10'] }] }), pino({ level: 'silent' }));
const server = new ControlServer({ secret: SECRET, localToken: TOKEN, gateway, edge, trunks, log: pino({ level: 'silent' }), voicemailDir: VOICEMAIL_DIR });
let base = '';

before(async () => {
  base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});
after(() => server.close());

const DELIVERY: SipDelivery = {
  device: { tenantId: 't1', userId: 'alice', deviceId: 'sip-alice', displayName: 'Alice', username: 'alice' },
  message: { type: 'call.ended', callId: 'c1', reason: 'hangup', durationMs: 1000 },
};

async function post(path: string, body: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).status;
}

test('a signed delivery reaches the gateway once; a replay, a wrong key, a stale or missing signature do not', async () => {
  const body = JSON.stringify(DELIVERY);
  const signature = await signControlRequest(SECRET, { method: 'POST', path: '/devices/messages', body });
  assert.equal(await post('/devices/messages', body, { [CONTROL_SIGNATURE_HEADER]: signature }), 204);
  assert.equal(await post('/devices/messages', body, { [CONTROL_SIGNATURE_HEADER]: signature }), 409);
  assert.equal(
    await post('/devices/messages', body, {
      [CONTROL_SIGNATURE_HEADER]: await signControlRequest('another-secret-entirely', { method: 'POST', path: '/devices/messages', body }),
    }),
    401,
  );
  const stale = await signControlRequest(SECRET, { method: 'POST', path: '/devices/messages', body }, { timestamp: Math.floor(Date.now() / 1000) - 600 });
  assert.equal(await post('/devices/messages', body, { [CONTROL_SIGNATURE_HEADER]: stale }), 401);
  assert.equal(await post('/devices/messages', body, {}), 401);
  assert.equal(delivered.length, 1);
});

test('signed garbage, a body of the wrong shape and an oversized body are refused before the gateway sees them', async () => {
  const count = delivered.length;
  for (const body of ['not json', '{"device":{},"message":{}}', JSON.stringify({ ...DELIVERY, message: { type: 'call.ended', callId: '../x' } })]) {
    const signature = await signControlRequest(SECRET, { method: 'POST', path: '/devices/messages', body });
    assert.equal(await post('/devices/messages', body, { [CONTROL_SIGNATURE_HEADER]: signature }), 400, body);
  }
  const huge = JSON.stringify({ ...DELIVERY, padding: 'x'.repeat(100_000) });
  const response = await fetch(`${base}/devices/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge }).catch(() => null);
  assert.ok(response === null || response.status === 413, `oversized: ${response?.status}`);
  assert.equal(delivered.length, count);
});

test("Kamailio's HA1 lookups need the local token; an unknown or impossible username is a plain 404", async () => {
  const ha1 = (username: string, token = TOKEN) =>
    fetch(`${base}/kamailio/ha1?username=${encodeURIComponent(username)}`, { headers: { [LOCAL_TOKEN_HEADER]: token } });
  const found = await ha1('alice');
  assert.deepEqual([found.status, await found.text()], [200, '0123456789abcdef0123456789abcdef']);
  assert.equal((await ha1('alice', 'wrong-token-of-the-same-length-xxxx')).status, 401);
  assert.equal((await ha1('alice', '')).status, 401);
  assert.equal((await ha1('mallory')).status, 404);
  const before = lookedUp.length;
  for (const hostile of ['a b', 'alice@evil', "x'; drop table users;--", '\u0000', '']) assert.equal((await ha1(hostile)).status, 404, hostile);
  assert.equal(lookedUp.length, before, 'impossible usernames never reach the edge');
});

test("Kamailio's trunk lookups need the local token; a trunk's address gives its id, any other (or garbage) 404", async () => {
  const trunk = (source: string, token = TOKEN) =>
    fetch(`${base}/kamailio/trunk?source=${encodeURIComponent(source)}`, { headers: { [LOCAL_TOKEN_HEADER]: token } });
  const found = await trunk('192.0.2.10');
  assert.deepEqual([found.status, await found.text()], [200, 'carrier-a']);
  assert.equal((await trunk('192.0.2.10', 'wrong-token-of-the-same-length-xxxx')).status, 401);
  for (const other of ['192.0.2.11', '', 'not an address', '192.0.2.10; drop']) assert.equal((await trunk(other)).status, 404, other);
});

test("Kamailio's registration reports need the token and the right shape", async () => {
  const report = (body: unknown, token = TOKEN) => post('/kamailio/registrations', JSON.stringify(body), { [LOCAL_TOKEN_HEADER]: token });
  assert.equal(await report({ username: 'alice', expires: 600, contact: 'sip:alice@127.0.0.1:5999', userAgent: 'baresip' }), 204);
  assert.equal(await report({ username: 'alice', expires: 0, contact: '*' }), 204);
  assert.equal(await report({ username: 'nobody', expires: 600, contact: 'sip:nobody@127.0.0.1:5999' }), 404);
  assert.equal(await report({ username: 'alice', expires: 600, contact: 'sip:alice@127.0.0.1:5999' }, 'wrong-token-of-the-same-length-xxxx'), 401);
  const contact = 'sip:alice@127.0.0.1:5999';
  for (const bad of [
    { username: 'alice', expires: -1, contact },
    { username: 'alice', expires: 'soon', contact },
    { username: 'a b', expires: 60, contact },
    { username: 'alice', expires: 60 },
    { username: 'alice', expires: 60, contact: '' },
    {},
  ])
    assert.equal(await report(bad), 400, JSON.stringify(bad));
  assert.deepEqual(registered, [
    { username: 'alice', expires: 600, contact: 'sip:alice@127.0.0.1:5999', userAgent: 'baresip' },
    { username: 'alice', expires: 0, contact: '*' },
    { username: 'nobody', expires: 600, contact: 'sip:nobody@127.0.0.1:5999' },
  ]);
});

test('a voicemail file is streamed and erased only on a fresh signature; keys outside the directory are never touched', async () => {
  mkdirSync(join(VOICEMAIL_DIR, 't1'));
  writeFileSync(join(VOICEMAIL_DIR, 't1', 'c1.ogg'), 'OggS message');
  writeFileSync(join(VOICEMAIL_DIR, 'secret.ogg'), 'not a message');
  const signed = async (method: 'GET' | 'DELETE', path: string, secret = SECRET) =>
    fetch(`${base}${path}`, { method, headers: { [CONTROL_SIGNATURE_HEADER]: await signControlRequest(secret, { method, path, body: '' }) } });
  const found = await signed('GET', '/voicemail/t1/c1.ogg');
  assert.deepEqual([found.status, found.headers.get('content-type'), await found.text()], [200, 'audio/ogg', 'OggS message']);
  assert.equal((await fetch(`${base}/voicemail/t1/c1.ogg`)).status, 401);
  assert.equal((await signed('GET', '/voicemail/t1/c1.ogg', 'another-secret-entirely')).status, 401);
  const signature = await signControlRequest(SECRET, { method: 'GET', path: '/voicemail/t1/c1.ogg', body: '' });
  assert.equal((await fetch(`${base}/voicemail/t1/c1.ogg`, { headers: { [CONTROL_SIGNATURE_HEADER]: signature } })).status, 200);
  assert.equal((await fetch(`${base}/voicemail/t1/c1.ogg`, { headers: { [CONTROL_SIGNATURE_HEADER]: signature } })).status, 409, 'replayed');
  for (const hostile of ['/voicemail/secret.ogg', '/voicemail/t1/..%2Fsecret.ogg', '/voicemail/t1/c1.wav', '/voicemail/t1/c2.ogg'])
    assert.equal((await signed('GET', hostile)).status, 404, hostile);
  assert.equal((await signed('DELETE', '/voicemail/t1/..%2Fsecret.ogg')).status, 404);
  assert.equal((await signed('DELETE', '/voicemail/t1/c1.ogg')).status, 204);
  assert.equal((await signed('DELETE', '/voicemail/t1/c1.ogg')).status, 204, 'erasing twice is done twice');
  assert.equal(existsSync(join(VOICEMAIL_DIR, 't1', 'c1.ogg')), false);
  assert.equal(existsSync(join(VOICEMAIL_DIR, 'secret.ogg')), true);
});

test('unknown routes answer 404, health answers 200', async () => {
  assert.equal((await fetch(`${base}/health`)).status, 200);
  assert.equal((await fetch(`${base}/admin`)).status, 404);
  assert.equal((await fetch(`${base}/devices/messages`)).status, 404);
});
