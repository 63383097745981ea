import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialedNumber, isPhoneNumber } from './components/Directory.tsx';

test('the dial field takes an extension, or a SIP address whose user part is one', () => {
  assert.equal(dialedNumber('101'), '101');
  assert.equal(dialedNumber(' 10-1 '), '101');
  assert.equal(dialedNumber('sip:205@sip.callstack.local'), '205');
  assert.equal(dialedNumber('SIPS:205@example.com'), '205');
  assert.equal(dialedNumber('205@example.com'), '205');
});

test('anything else is not a number to dial', () => {
  for (const typed of ['', 'alice', 'sip:alice@example.com', '1', '123456789', '+44 20 7946 0000', 'sip:@x', '１０１']) {
    assert.equal(dialedNumber(typed), null, typed);
  }
});

test('a phone number, as people write it, is told from an extension', () => {
  for (const typed of ['+44 20 7946 0958', '020 7946 0958', '(212) 555-0123', '0044 20 7946 0958', '+1.212.555.0123']) {
    assert.equal(isPhoneNumber(typed), true, typed);
  }
  for (const typed of ['101', '12345678', '+44', 'sip:101@example.com', 'alice', '020 7946 0958 ext 2', '1'.repeat(18)]) {
    assert.equal(isPhoneNumber(typed), false, typed);
  }
});
