/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roomErrorMessage, RoomRequestError } from './errors.ts';

test('errors people read name the problem', () => {
  assert.match(roomErrorMessage(new RoomRequestError('not_found', 'no such room')), /does not exist/);
  assert.match(roomErrorMessage(new RoomRequestError('media_unavailable', 'x')), /No media server/);
  assert.equal(roomErrorMessage(new RoomRequestError('invalid_state', 'the room is full')), 'The room is full.');
  assert.equal(roomErrorMessage(new RoomRequestError('forbidden', 'only the room creator may record')), 'Only the room creator may record.');
  assert.match(roomErrorMessage(new Error('boom')), /went wrong/);
});
