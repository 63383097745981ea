import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SIGNALING_MESSAGE_BYTES, parseClientMessage, parseServerMessage } from './signaling.ts';

test('parses each valid client message into its variant', () => {
  const invite = parseClientMessage(JSON.stringify({ type: 'call.invite', ref: 'r1', callId: 'c-1', to: 'u_2', media: { audio: true, video: false } }));
  assert.deepEqual(invite, { ok: true, message: { type: 'call.invite', ref: 'r1', callId: 'c-1', to: 'u_2', media: { audio: true, video: false } } });
  const ice = parseClientMessage(JSON.stringify({ type: 'call.ice', callId: 'c-1', candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } }));
  assert.equal(ice.ok, true);
});

test('names the failing field of an invalid message', () => {
  const result = parseClientMessage(JSON.stringify({ type: 'call.invite', callId: 'c 1', to: 'u', media: { audio: true, video: true } }));
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.code, 'bad_message');
  assert.match(!result.ok ? result.message : '', /^callId: /);
});

test('rejects unknown types, non-JSON and oversized frames with distinct codes', () => {
  assert.equal(parseClientMessage('{"type":"call.teleport","callId":"x"}').ok, false);
  const notJson = parseClientMessage('{oops');
  assert.equal(!notJson.ok && notJson.message, 'frame is not valid JSON');
  const big = parseClientMessage(JSON.stringify({ type: 'call.offer', callId: 'c', sdp: 'é'.repeat(MAX_SIGNALING_MESSAGE_BYTES / 2) }));
  assert.equal(!big.ok && big.code, 'message_too_large');
  const bigBinary = parseClientMessage(new ArrayBuffer(MAX_SIGNALING_MESSAGE_BYTES + 1));
  assert.equal(!bigBinary.ok && bigBinary.code, 'message_too_large');
});

test('server messages are validated too (the web app checks what it receives)', () => {
  assert.equal(parseServerMessage(JSON.stringify({ type: 'call.ended', callId: 'c', reason: 'hangup', durationMs: 10 })).ok, true);
  assert.equal(parseServerMessage(JSON.stringify({ type: 'call.ended', callId: 'c', reason: 'exploded', durationMs: 10 })).ok, false);
});

test('a recorded call: invite asks for it, incoming tells it, accepted names the room', () => {
  const invite = parseClientMessage(JSON.stringify({ type: 'call.invite', callId: 'c', to: 'u', media: { audio: true, video: true }, record: true }));
  assert.equal(invite.ok && invite.message.type === 'call.invite' && invite.message.record, true);
  assert.equal(parseClientMessage(JSON.stringify({ type: 'call.invite', callId: 'c', to: 'u', media: { audio: true, video: true }, record: 'yes' })).ok, false);
  const incoming = parseServerMessage(
    JSON.stringify({ type: 'call.incoming', callId: 'c', from: { userId: 'u', displayName: 'U' }, media: { audio: true, video: true } }),
  );
  assert.equal(incoming.ok && incoming.message.type === 'call.incoming' && incoming.message.record, undefined, 'absent: not recorded');
  const accepted = { type: 'call.accepted', callId: 'c', role: 'caller', peer: { userId: 'u', displayName: 'U' }, answeredAt: 1 };
  assert.equal(parseServerMessage(JSON.stringify({ ...accepted, roomId: 'r-1' })).ok, true);
  assert.equal(parseServerMessage(JSON.stringify({ ...accepted, roomId: 'not a room' })).ok, false);
});
