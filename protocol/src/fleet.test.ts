import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signNodeRegistration, verifyNodeRegistration } from './fleet.ts';
import { parseClientMessage } from './signaling.ts';

const SECRET = 'registration-secret-0123';

test("registration signatures: the agent's t=,v1= form verifies; wrong, malformed and stale ones do not", async () => {
  const body = '{"kind":"media"}';
  const now = 1_700_000_000;
  // What infra-cdk's agent computes with python's hmac: hex HMAC-SHA256 over "<t>.<body>".
  const agent = `t=${now},v1=${createHmac('sha256', SECRET).update(`${now}.${body}`).digest('hex')}`;
  assert.equal(await signNodeRegistration(SECRET, body, now), agent);
  assert.deepEqual(await verifyNodeRegistration(SECRET, agent, body, now + 299), { ok: true });
  for (const skewed of [now + 301, now - 301]) {
    const expired = await verifyNodeRegistration(SECRET, agent, body, skewed);
    assert.equal(!expired.ok && expired.code, 'signature_expired');
  }
  const tampered = await verifyNodeRegistration(SECRET, agent, body.replace('media', 'sip'), now);
  assert.equal(!tampered.ok && tampered.code, 'unauthorized');
  for (const header of [undefined, '', 't=1', `v1=${'0'.repeat(64)}`, 't=abc,v1=00']) {
    const check = await verifyNodeRegistration(SECRET, header, body, now);
    assert.equal(!check.ok && check.code, 'unauthorized', String(header));
  }
});

test('room messages are validated like every other frame', () => {
  const roomId = 'r1';
  assert.ok(parseClientMessage(JSON.stringify({ type: 'room.join', ref: 'a', roomId })).ok);
  const bad = parseClientMessage(JSON.stringify({ type: 'room.consumer.layers', roomId, consumerId: crypto.randomUUID(), spatialLayer: 9 }));
  assert.equal(!bad.ok && bad.code, 'bad_message');
  const transport = parseClientMessage(JSON.stringify({ type: 'room.transport.create', roomId, direction: 'send' }));
  assert.ok(transport.ok && transport.message.type === 'room.transport.create' && transport.message.transport === 'webrtc', 'webrtc by default');
  assert.ok(parseClientMessage(JSON.stringify({ type: 'room.probe', ref: 'p', roomId })).ok);
  assert.equal(parseClientMessage(JSON.stringify({ type: 'room.probe', ref: 'p' })).ok, false, 'a probe names its room');
});
