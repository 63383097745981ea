import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePresenceClientMessage, parsePresenceServerMessage } from './presence.ts';
import { parseClientMessage, parseServerMessage } from './signaling.ts';

test('presence messages on the signaling socket are validated like the call messages', () => {
  assert.deepEqual(parseClientMessage('{"type":"presence.set","status":"dnd"}'), { ok: true, message: { type: 'presence.set', status: 'dnd' } });
  assert.equal(parseClientMessage('{"type":"presence.set","status":"busy"}').ok, false, 'busy is set by calls, not by hand');
  assert.equal(parseClientMessage('{"type":"presence.activity","idle":true}').ok, true);
  const noIdle = parseClientMessage('{"type":"presence.activity"}');
  assert.match(!noIdle.ok ? noIdle.message : '', /^idle: /);
  assert.equal(parseServerMessage('{"type":"presence.self","status":"away","manual":null,"since":1}').ok, true);
});

test('the presence socket accepts only ping from a watcher, and typed frames from the edge', () => {
  assert.equal(parsePresenceClientMessage('{"type":"ping","ref":"r"}').ok, true);
  const set = parsePresenceClientMessage('{"type":"presence.set","status":"dnd"}');
  assert.equal(!set.ok && set.code, 'bad_message');
  assert.equal(parsePresenceServerMessage('{"type":"presence.snapshot","users":[{"userId":"u1","status":"busy","since":5}],"more":false}').ok, true);
  assert.equal(parsePresenceServerMessage('{"type":"presence.updates","users":[{"userId":"u1","status":"offline","since":6}]}').ok, true);
  assert.equal(parsePresenceServerMessage('{"type":"presence.updates","users":[{"userId":"u1","status":"sleeping","since":6}]}').ok, false);
  assert.equal(parsePresenceServerMessage('{"type":"presence.updates","users":[]}').ok, false, 'an update carries at least one change');
});
