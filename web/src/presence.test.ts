/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PresenceEntry } from '@callstack/protocol';
import { EMPTY_PRESENCE, presenceReducer, statusOf, type PresenceState } from './presence.ts';

const entry = (userId: string, status: PresenceEntry['status'], since: number): PresenceEntry => ({ userId, status, since });
const snapshot = (users: PresenceEntry[], more = false) => ({ type: 'presence.snapshot' as const, users, more });
const update = (userId: string, status: PresenceEntry['status'], since: number) => ({ type: 'presence.updates' as const, users: [{ userId, status, since }] });

function run(state: PresenceState, ...messages: Parameters<typeof presenceReducer>[1][]): PresenceState {
  return messages.reduce(presenceReducer, state);
}

test('a snapshot lists who is not offline; anyone else is offline', () => {
  const state = run(EMPTY_PRESENCE, snapshot([entry('ann', 'online', 1), entry('bo', 'busy', 2)]));
  assert.equal(statusOf(state, 'ann'), 'online');
  assert.equal(statusOf(state, 'bo'), 'busy');
  assert.equal(statusOf(state, 'cy'), 'offline');
});

test('a snapshot in parts shows once its last part arrived, with the updates that came meanwhile', () => {
  const before = run(EMPTY_PRESENCE, snapshot([entry('old', 'online', 1)]));
  const partial = run(before, snapshot([entry('ann', 'online', 5)], true), update('bo', 'away', 6));
  assert.equal(statusOf(partial, 'ann'), 'offline', 'not shown before the last part');
  assert.equal(statusOf(partial, 'old'), 'online');
  const done = run(partial, snapshot([entry('cy', 'dnd', 4)]));
  assert.deepEqual(
    ['ann', 'bo', 'cy', 'old'].map((id) => statusOf(done, id)),
    ['online', 'away', 'dnd', 'offline'],
    'a new snapshot replaces what an earlier connection knew',
  );
});

test('updates change one user; offline removes them; an older update never wins', () => {
  let state = run(EMPTY_PRESENCE, snapshot([entry('ann', 'online', 10)]));
  state = run(state, update('ann', 'busy', 11));
  assert.equal(statusOf(state, 'ann'), 'busy');
  state = run(state, update('ann', 'online', 9));
  assert.equal(statusOf(state, 'ann'), 'busy', 'late frame ignored');
  state = run(state, update('ann', 'offline', 12));
  assert.equal(statusOf(state, 'ann'), 'offline');
  assert.equal(state.statuses.has('ann'), false);
  state = run(state, update('ann', 'away', 13));
  assert.equal(statusOf(state, 'ann'), 'away');
});

test('the reducer never mutates the state it was given', () => {
  const first = run(EMPTY_PRESENCE, snapshot([entry('ann', 'online', 1)]));
  run(first, update('ann', 'away', 2), snapshot([entry('bo', 'online', 3)], true));
  assert.equal(statusOf(first, 'ann'), 'online');
  assert.equal(first.incoming, null);
  assert.equal(EMPTY_PRESENCE.statuses.size, 0);
});
