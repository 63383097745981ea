/**
 * A person's own voicemail greeting over REST against the real edge and PostgreSQL: what may be
 * uploaded (audio of the declared type, at most 1 MiB), that it comes back as it went, that it is
 * theirs alone, and what the gateway gets for their mailbox (signed, base64; 404 without one).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ErrorBody, SipGreetingAnswer, VoicemailGreetingInfo } from '@callstack/protocol';
import { api, createTenant, login, type TestTenant } from '../lib/fixtures.ts';
import { SipGatewayStub } from '../lib/SipGatewayStub.ts';
import { stack } from '../lib/stack.ts';

let tenant: TestTenant;
let gateway: SipGatewayStub;
let bobToken: string;

before(async () => {
  gateway = await SipGatewayStub.start(stack.url, stack.mediaSecret);
  tenant = await createTenant();
  bobToken = (await login(tenant.users.bob)).accessToken;
});
after(() => gateway.close());

/** A WAV file: its RIFF header, then `samples` bytes of 8-bit silence. */
function wav(samples: number): Uint8Array {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples, 40);
  return new Uint8Array(Buffer.concat([header, Buffer.alloc(samples, 0x80)]));
}

function put(body: Uint8Array | string, type: string, token = bobToken) {
  const payload = typeof body === 'string' ? body : new Blob([Buffer.from(body)]);
  return fetch(new URL('/api/voicemail/greeting', stack.url), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: payload,
  });
}

async function codeOf(response: Response): Promise<[number, string]> {
  return [response.status, ((await response.json()) as ErrorBody).error.code];
}

test('only audio of the declared type, up to 1 MiB, is taken as a greeting; nothing half-stored', async () => {
  assert.deepEqual(await codeOf(await put(wav(800), 'text/plain')), [415, 'unsupported_media_type']);
  assert.deepEqual(await codeOf(await put('<script>alert(1)</script>', 'audio/wav')), [400, 'bad_request']);
  assert.deepEqual(await codeOf(await put(wav(800), 'audio/ogg')), [400, 'bad_request'], 'a WAV is no Ogg');
  assert.deepEqual(await codeOf(await put(wav(1024 * 1024 + 1), 'audio/wav')), [413, 'message_too_large']);
  assert.deepEqual((await api<VoicemailGreetingInfo>('GET', '/api/voicemail/greeting/info', { auth: bobToken })).body, { own: false, updatedAt: null });
  assert.equal((await gateway.post('/api/sip/voicemail/greeting', { node: gateway.node, tenantId: tenant.id, userId: tenant.users.bob.id })).status, 404);
});

test('bob’s greeting comes back as it went, to him and to the gateway taking his messages, and to nobody else', async () => {
  const greeting = wav(16_000);
  assert.equal((await put(greeting, 'audio/wav')).status, 204);
  const info = (await api<VoicemailGreetingInfo>('GET', '/api/voicemail/greeting/info', { auth: bobToken })).body;
  assert.equal(info.own, true);
  const mine = await fetch(new URL('/api/voicemail/greeting', stack.url), { headers: { authorization: `Bearer ${bobToken}` } });
  assert.deepEqual([mine.status, mine.headers.get('content-type')], [200, 'audio/wav']);
  assert.deepEqual(new Uint8Array(await mine.arrayBuffer()), greeting);

  const forGateway = await gateway.post<SipGreetingAnswer>('/api/sip/voicemail/greeting', {
    node: gateway.node,
    tenantId: tenant.id,
    userId: tenant.users.bob.id,
  });
  assert.equal(forGateway.status, 200);
  assert.deepEqual([forGateway.body.contentType, new Uint8Array(Buffer.from(forGateway.body.audio, 'base64'))], ['audio/wav', greeting]);
  assert.equal(
    (
      await gateway.post(
        '/api/sip/voicemail/greeting',
        { node: gateway.node, tenantId: tenant.id, userId: tenant.users.bob.id },
        { secret: 'not-the-nodes-secret-0123456789' },
      )
    ).status,
    401,
  );

  // Carol (same organisation) and another organisation's bob have their own, empty, greeting.
  const stranger = await createTenant();
  for (const user of [tenant.users.carol, stranger.users.bob]) {
    const token = (await login(user)).accessToken;
    assert.equal((await api('GET', '/api/voicemail/greeting', { auth: token })).status, 404);
  }
  assert.equal((await gateway.post('/api/sip/voicemail/greeting', { node: gateway.node, tenantId: stranger.id, userId: tenant.users.bob.id })).status, 404);

  assert.equal((await api('DELETE', '/api/voicemail/greeting', { auth: bobToken })).status, 204);
  assert.equal((await api<VoicemailGreetingInfo>('GET', '/api/voicemail/greeting/info', { auth: bobToken })).body.own, false);
});
