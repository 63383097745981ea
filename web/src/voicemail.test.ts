import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callerLabel } from './voicemail.ts';

test("a message's caller: the contact's name, else the number, else withheld", () => {
  assert.equal(callerLabel({ from: '+442079460177', fromName: 'Dr Outside' }), 'Dr Outside');
  assert.equal(callerLabel({ from: '+442079460177', fromName: null }), '+442079460177');
  assert.equal(callerLabel({ from: null, fromName: null }), 'Withheld number');
});
